"""The face video dataset: default real clips (:mod:`.sources`), decoding (:mod:`.video`),
MTCNN detection and tracking (:mod:`.faces`), the builder (:mod:`.builder`, CLI in
:mod:`.cli`), the manifest (:mod:`.manifest`) and the PyTorch dataset (:mod:`.dataset`).

Modules are imported on use (``from hofvsr_lib.data.dataset import FaceWindows``) so that
light commands do not load torch or MTCNN.
"""
