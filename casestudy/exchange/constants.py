"""REFI-QDA exchange vocabulary that the command line needs before the exchange modules are loaded.

A leaf module; ``casestudy.exchange.offsets`` re-exports these names.
"""

# How a file counts text positions: the conventions of the tools, and "auto" (detect).
OFFSET_MODES = ("auto", "codepoints", "utf16", "crlf1", "utf8")
OFFSET_HELP = {
    "codepoints": "Unicode code points (the standard)",
    "utf16": "UTF-16 code units (NVivo)",
    "crlf1": "code points with CRLF counted as one character (ATLAS.ti)",
    "utf8": "UTF-8 bytes (Taguette)",
}

# Export options: how positions are counted and how lines end in the written sources.
EXPORT_OFFSETS = {"codepoints": "code points (standard)", "utf16": "UTF-16 units (NVivo)"}
LINE_ENDINGS = {"lf": "LF (as stored)", "crlf": "CRLF (Windows tools)"}
