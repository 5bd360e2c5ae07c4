"""Coding vocabulary that the command line needs before any coding module is loaded (a leaf module)."""

# Cell measures of the case x code matrix (casestudy.coding.matrices re-exports this).
MATRIX_MEASURES = ("counts", "presence", "characters")
