"""Answers given recently, by (department, request_id): a bounded, expiring, thread-safe memory."""

from __future__ import annotations

import threading

from cachetools import TTLCache


class RecentAnswers:
    """The stored bytes of recent answers, so a retry after a timeout skips the store.

    Every RPC thread reads and writes it; a cachetools cache is not thread-safe (two threads
    evicting at once raise KeyError), hence the lock.
    """

    def __init__(self, maxsize: int, ttl: float = 600) -> None:
        self._cache: TTLCache[tuple[str, str], bytes] = TTLCache(maxsize=maxsize, ttl=ttl)
        self._lock = threading.Lock()

    def get(self, department: str, request_id: str) -> bytes | None:
        """The answer given to this request, if still remembered."""
        with self._lock:
            return self._cache.get((department, request_id))

    def remember(self, department: str, request_id: str, payload: bytes) -> None:
        """Keep an answer (the oldest is forgotten when full)."""
        with self._lock:
            self._cache[(department, request_id)] = payload
