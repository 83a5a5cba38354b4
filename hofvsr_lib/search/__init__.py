"""The paper's architecture search through NNI: TPE, Random and SMAC over 800 SR nets."""
