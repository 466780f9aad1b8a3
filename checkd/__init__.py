"""checkd: credit-check middleware for department business systems."""

from checkd.compiled import install as _load_current_builds_only

__version__ = "0.1.0"

# Before any compiled module is imported: an extension built from an older source is not loaded.
_load_current_builds_only()
