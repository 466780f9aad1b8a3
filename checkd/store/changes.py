"""Data changes announced to every process on a PostgreSQL store (LISTEN/NOTIFY), and their listener."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import psycopg
import structlog
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from checkd.store.db import Database

log = structlog.get_logger(__name__)

CHANNEL = "checkd_data_changes"
# PostgreSQL refuses a notification payload of 8000 bytes or more; a change naming more entries
# than fit is announced by its version alone, and the listeners rebuild instead of updating.
PAYLOAD_LIMIT = 7500


@dataclass(frozen=True, slots=True)
class DataChange:
    """One announcement: the data version reached, the entries it changed (None: unknown, rebuild)."""

    version: int
    entry_ids: tuple[str, ...] | None
    reload: bool = False  # a full reload (catalogue and index) was asked of every process
    origin: str = ""  # the announcing process, which has applied it already


def announce(
    session: Session,
    version: int,
    entry_ids: Sequence[str] | None,
    *,
    reload: bool = False,
    origin: str = "",
) -> None:
    """Announce a change in the open transaction: PostgreSQL delivers it at commit, never on rollback.

    SQLite has no notifications: its daemons find changes by polling the data version.
    """
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return
    fields: dict[str, object] = {"version": version, "reload": reload, "origin": origin}
    if entry_ids is not None and len(entry_ids) > PAYLOAD_LIMIT // 8:  # cannot fit: spare the encoding
        entry_ids = None
    payload = json.dumps({**fields, "entries": list(entry_ids)} if entry_ids is not None else fields)
    if len(payload.encode()) >= PAYLOAD_LIMIT:
        payload = json.dumps(fields)
    session.execute(select(func.pg_notify(CHANNEL, payload)))


def announce_reload(database: Database, version: int, origin: str) -> None:
    """Ask every other process on the store to reload its catalogue and index (nothing on SQLite)."""
    with database.transaction() as session:
        announce(session, version, None, reload=True, origin=origin)


def parse(payload: str) -> DataChange | None:
    """The change a payload announces; None for one this version of checkd cannot read."""
    try:
        fields = json.loads(payload)
        entries = fields.get("entries")
        return DataChange(
            int(fields["version"]),
            None if entries is None else tuple(str(e) for e in entries),
            bool(fields.get("reload", False)),
            str(fields.get("origin", "")),
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


class ChangeListener:
    """Follows the announcements on a connection of its own; reconnects by itself when the store returns.

    `on_connected` runs after each (re)connection, before any announcement is taken: whatever was
    announced while the listener was away is found there (the data version is read), not lost.
    """

    def __init__(
        self,
        url: str,
        on_change: Callable[[DataChange], None],
        on_connected: Callable[[], None],
        *,
        retry_seconds: float = 1.0,
    ) -> None:
        self._conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        self._on_change = on_change
        self._on_connected = on_connected
        self._retry_seconds = retry_seconds
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="data-changes", daemon=True)

    def start(self) -> None:
        """Start listening in the background."""
        self._thread.start()

    def close(self) -> None:
        """Stop listening (within about a second)."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(5)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._listen()
            except Exception as exc:  # the store went away: serve on, poll backstop, reconnect
                with contextlib.suppress(Exception):
                    log.warning(
                        "data_changes_lost", error=str(exc).strip().splitlines()[0] if str(exc) else ""
                    )
            self._stopping.wait(self._retry_seconds)

    def _listen(self) -> None:
        with psycopg.connect(self._conninfo, autocommit=True, connect_timeout=5) as connection:
            connection.execute(f"LISTEN {CHANNEL}")
            self._on_connected()
            log.info("data_changes_followed", channel=CHANNEL)
            while not self._stopping.is_set():
                for notice in connection.notifies(timeout=0.5):
                    change = parse(notice.payload)
                    if change is None:
                        log.warning("data_change_unreadable", payload=notice.payload[:200])
                        continue
                    self._apply(change)
                # A cut link may go unseen by a socket that is only read: ask the server once per pause.
                connection.execute("SELECT 1")

    def _apply(self, change: DataChange) -> None:
        try:
            self._on_change(change)
        except Exception as exc:  # one change that fails to apply must not end the listener
            log.warning("data_change_failed", data_version=change.version, error=str(exc))


__all__ = ["CHANNEL", "ChangeListener", "DataChange", "announce", "announce_reload", "parse"]
