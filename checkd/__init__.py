"""checkd: credit-check middleware for department business systems."""

__version__ = "0.1.0"
