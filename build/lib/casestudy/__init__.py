"""Casestudy: a platform for qualitative multiple-case studies.

The package is the library; ``casestudy.cli`` and ``casestudy.ui`` are thin faces over it.
"""

__version__ = "0.1.0"
