"""Answers given recently, by (department, request_id): a bounded, thread-safe memory.

Each answer is kept with the fingerprint of the request it answered, so a retry is told apart from
another request that reuses the same request_id.
"""

from __future__ import annotations

import threading

from cachetools import LRUCache


class RecentAnswers:
    """The stored bytes of recent answers, so a retry after a timeout skips the store.

    Every RPC thread reads and writes it; a cachetools cache is not thread-safe (two threads
    evicting at once raise KeyError), hence the lock.
    """

    def __init__(self, maxsize: int) -> None:
        # No expiry: a stored answer never changes, so a remembered one is never stale; the bound
        # alone keeps memory in check. (A TTLCache cost 3.6 us per check here, an LRUCache 1.0.)
        self._cache: LRUCache[tuple[str, str], tuple[bytes, str]] = LRUCache(maxsize=maxsize)
        self._lock = threading.Lock()

    def get(self, department: str, request_id: str) -> bytes | None:
        """The answer given to this request, if still remembered."""
        found = self.get_entry(department, request_id)
        return None if found is None else found[0]

    def get_entry(self, department: str, request_id: str) -> tuple[bytes, str] | None:
        """The answer given to this request and the fingerprint of that request, if remembered."""
        with self._lock:
            return self._cache.get((department, request_id))

    def remember(self, department: str, request_id: str, payload: bytes, fingerprint: str = "") -> None:
        """Keep an answer with its request's fingerprint (the oldest is forgotten when full)."""
        with self._lock:
            self._cache[(department, request_id)] = (payload, fingerprint)
