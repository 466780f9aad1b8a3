"""Field limits and free-text hygiene: text the store cannot keep faithfully is refused at the door.

The one table of how long each kind of field may be (characters); requests, imports and registry
acts all check against it, and the store's bounded columns (checkd/store/tables.py) fit it.
"""

from __future__ import annotations

import re

ID_CHARS = 64  # a subject id, a check id, a department or scene name
REQUEST_ID_CHARS = 128  # a caller's idempotency key
ENTRY_ID_CHARS = 128  # a list entry's id
TEXT_CHARS = 256  # names, matters, authorities, document numbers
SEVERITY_CHARS = 32
REASON_CHARS = 2000  # a free-text reason (feedback, revocation, reinstatement)
IMPORT_FIELD_CHARS = 1000  # any other field of an import row
MAX_SUBJECTS = 100  # subjects in one check
MAX_BATCH = 1000  # checks in one BatchCheck by default (serve --max-batch); the client kit splits to it

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
