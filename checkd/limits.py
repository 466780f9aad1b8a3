"""Free-text field hygiene: text the store cannot keep faithfully is refused at the door."""

from __future__ import annotations

import re

# C0 controls other than tab/newline, and lone surrogates: PostgreSQL refuses NUL in text and
# neither belongs in an identifier, a name or a reason.
_BAD = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def text_problem(value: str, limit: int) -> str | None:
    """Why `value` cannot be stored as a text field of at most `limit` characters, or None."""
    if len(value) > limit:
        return f"longer than {limit} characters"
    found = _BAD.search(value)
    if found is not None:
        return f"contains the control character U+{ord(found.group()):04X}"
    return None
