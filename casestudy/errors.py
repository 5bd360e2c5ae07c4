"""The one error type the library raises for anything a user can fix.

The CLI prints ``error: <message>`` and exits 2; the UI shows the message. Anything else that
escapes is a bug: it is logged with its traceback and shown as a short message with a reference.
"""

from __future__ import annotations


class UserError(Exception):
    """A problem with the user's input or request, carrying a human-readable message.

    ``field`` optionally names the input at fault (e.g. "title"), so a form can show the
    message next to that field.
    """

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.message
