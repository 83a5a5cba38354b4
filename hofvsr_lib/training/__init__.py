"""Training: the loops (``loops``), the cached protocol shared by the search and the final
training (``cached``), the final networks of Table 3 (``final``) and ``hofvsr evaluate``."""
