"""The report: Table 3 (``table3``), the book's tables and figures (``figures``) and the
paper's claims checked against the evidence (``claims``)."""
