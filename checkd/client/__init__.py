"""The Python client kit: a typed client with deadlines, safe retries, TLS/token set-up and batching."""

from checkd.client.client import CheckdClient
from checkd.client.errors import CallError

__all__ = ["CallError", "CheckdClient"]
