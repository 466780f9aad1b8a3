"""Subject name comparison: flag a material difference between a given and a listed name."""

from __future__ import annotations

import functools
import re
import unicodedata

# Legal-form suffixes that name the same kind of body; compared as one.
_SUFFIXES = (
    ("有限责任公司", "有限公司"),
    ("有限公司", "有限公司"),
)
_NOISE = re.compile(r"[\s()（）\[\]【】〔〕·.,，、\-—_]")


@functools.lru_cache(maxsize=65536)  # listed names recur on every check of their subject
def canonical_name(name: str) -> str:
    """Fold width, case, brackets, blanks and legal-form suffix variants of a name."""
    text = _NOISE.sub("", unicodedata.normalize("NFKC", name)).lower()
    for variant, canonical in _SUFFIXES:
        if text.endswith(variant):
            return text[: -len(variant)] + canonical
    return text


def names_differ(given: str, listed: str) -> bool:
    """True when both names are known and differ after folding (a case for human review)."""
    if not given.strip() or not listed.strip():
        return False
    return canonical_name(given) != canonical_name(listed)
