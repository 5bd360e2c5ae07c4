"""Shows a hostile narrative through the one safe-Markdown helper (tests/security/test_safe_markdown.py)."""

from casestudy.ui.markdown import show_markdown
from tests.security.test_safe_markdown import HOSTILE

show_markdown(HOSTILE)
