"""The console's sessions: a signed id only, idle and absolute expiry, renewal at sign-in, CSRF match."""

from __future__ import annotations

from checkd.console.sessions import Sessions


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        """The current reading."""
        return self.now


def test_cookie_holds_a_signed_id_and_a_tampered_one_is_unknown() -> None:
    """The cookie names the session; another id, or the right id with another signature, names nothing."""
    sessions = Sessions()
    session = sessions.new()
    session.token = "secret-token"
    cookie = sessions.cookie_value(session)
    assert "secret-token" not in cookie
    assert sessions.find(cookie) is session
    session_id, _, signature = cookie.rpartition(".")
    assert sessions.find(f"{session_id}.{'0' * len(signature)}") is None
    assert sessions.find(f"{'x' * len(session_id)}.{signature}") is None
    assert Sessions().find(cookie) is None  # another process's key: a restart signs everyone out
    assert sessions.find(None) is None and sessions.find("no-dot") is None


def test_sessions_expire_when_idle_and_in_any_case() -> None:
    """Idle beyond the limit ends a session; so does its absolute age, however busy it is."""
    clock = Clock()
    sessions = Sessions(idle_seconds=60, max_seconds=300, clock=clock)
    idle = sessions.new()
    clock.now += 61
    assert sessions.find(sessions.cookie_value(idle)) is None
    busy = sessions.new()
    created = clock.now
    while clock.now - created < 300:  # touched every 50 s: never idle, alive up to 300 s of age
        clock.now += 50
        assert sessions.find(sessions.cookie_value(busy)) is busy
    clock.now += 50
    assert sessions.find(sessions.cookie_value(busy)) is None


def test_renewal_at_sign_in_drops_the_old_id_and_the_csrf_token_must_match() -> None:
    """Sign-in gets a new id and CSRF token (no fixation); only the session's own CSRF token passes."""
    sessions = Sessions()
    anonymous = sessions.new()
    old_cookie = sessions.cookie_value(anonymous)
    signed = sessions.renew(anonymous)
    assert sessions.find(old_cookie) is None
    assert signed.csrf != anonymous.csrf
    assert sessions.csrf_ok(signed, signed.csrf)
    assert not sessions.csrf_ok(signed, anonymous.csrf)
    assert not sessions.csrf_ok(signed, "") and not sessions.csrf_ok(signed, None)
    sessions.end(signed)
    assert sessions.find(sessions.cookie_value(signed)) is None
