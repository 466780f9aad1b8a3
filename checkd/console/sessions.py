"""Server-side sessions: the cookie holds only a signed session id; the token never leaves the server."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

COOKIE = "checkd_console"


@dataclass(slots=True)
class Session:
    """One browser's session: anonymous until sign-in, then the operator's token and identity."""

    session_id: str
    csrf: str
    created: float
    seen: float
    token: str = ""  # the operator's bearer token, held here only
    operator: str = ""  # as the daemon's policy names it, e.g. "credit_office (token ops-1)"
    subject_query: str = ""  # the last subject searched, so a number never travels in a URL
    flashes: list[tuple[str, str]] = field(default_factory=list)  # (level, message) to show once

    @property
    def signed_in(self) -> bool:
        """True once the daemon accepted the token as a credit office identity."""
        return bool(self.token)


class Sessions:
    """Sessions by id with an idle and an absolute expiry; ids travel in an HMAC-signed cookie."""

    def __init__(
        self,
        idle_seconds: float = 30 * 60,
        max_seconds: float = 8 * 3600,
        clock: Callable[[], float] = time.monotonic,
        key: bytes | None = None,
    ) -> None:
        self.idle_seconds = idle_seconds
        self.max_seconds = max_seconds
        self._clock = clock
        self._key = key or secrets.token_bytes(32)  # per process: a restart signs everyone out
        self._lock = threading.Lock()
        self._sessions: dict[str, Session] = {}

    def new(self) -> Session:
        """A fresh anonymous session (with its own CSRF token)."""
        now = self._clock()
        session = Session(secrets.token_urlsafe(32), secrets.token_urlsafe(32), now, now)
        with self._lock:
            self._drop_expired(now)
            self._sessions[session.session_id] = session
        return session

    def find(self, cookie: str | None) -> Session | None:
        """The live session a cookie names (its signature checked), touched; None otherwise."""
        if not cookie or "." not in cookie:
            return None
        session_id, _, signature = cookie.rpartition(".")
        if not hmac.compare_digest(signature, self._sign(session_id)):
            return None
        now = self._clock()
        with self._lock:
            session = self._sessions.get(session_id)
            if session is None:
                return None
            if now - session.seen > self.idle_seconds or now - session.created > self.max_seconds:
                del self._sessions[session_id]
                return None
            session.seen = now
            return session

    def renew(self, session: Session) -> Session:
        """A new id and CSRF token for the same session (at sign-in, against session fixation)."""
        fresh = self.new()
        fresh.flashes = session.flashes
        self.end(session)
        return fresh

    def end(self, session: Session) -> None:
        """Forget a session and the token it held."""
        with self._lock:
            self._sessions.pop(session.session_id, None)

    def cookie_value(self, session: Session) -> str:
        """What the browser keeps: the session id and its signature."""
        return f"{session.session_id}.{self._sign(session.session_id)}"

    @staticmethod
    def csrf_ok(session: Session, given: str | None) -> bool:
        """True when a form carried this session's CSRF token."""
        return bool(given) and hmac.compare_digest(str(given), session.csrf)

    def _sign(self, session_id: str) -> str:
        return hmac.new(self._key, session_id.encode(), hashlib.sha256).hexdigest()

    def _drop_expired(self, now: float) -> None:
        stale = [
            sid
            for sid, s in self._sessions.items()
            if now - s.seen > self.idle_seconds or now - s.created > self.max_seconds
        ]
        for sid in stale:
            del self._sessions[sid]
