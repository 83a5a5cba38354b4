"""HO-FVSR reproducible companion."""
