"""Codebook vocabulary that the command line needs before any codebook module is loaded.

A leaf module (no imports), so that ``casestudy --help`` stays light; the stage modules re-export
these names (``casestudy.codebook.exchange.FORMATS`` is this ``FORMATS``).
"""

# Codebook file formats for import and export.
FORMATS = ("yaml", "csv", "xlsx", "qdc")
