"""The current catalogue and index as one immutable pair, swapped atomically on reload."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import structlog

from checkd.catalogue import Catalogue, load_catalogue
from checkd.index import Index
from checkd.store import EntryRepository

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class State:
    """What a request sees from start to end: one catalogue and one index."""

    catalogue: Catalogue
    index: Index


class Snapshots:
    """Holds the current State; a reload builds a new one beside it and swaps one reference."""

    def __init__(self, rules_dir: Path, entries: EntryRepository,
                 clock: Callable[[], dt.datetime]) -> None:
        self._rules_dir = rules_dir
        self._entries = entries
        self._clock = clock
        self._lock = threading.Lock()  # one reload at a time; readers never wait on it
        self._state: State | None = None

    @property
    def current(self) -> State:
        """The state in force (raises if nothing was loaded yet)."""
        state = self._state
        if state is None:
            from checkd.errors import FailedPrecondition

            raise FailedPrecondition("catalogue and index are not loaded yet")
        return state

    @property
    def loaded(self) -> bool:
        """True once a first state is in force."""
        return self._state is not None

    def reload(self, *, catalogue: bool = True) -> State:
        """Rebuild the index (and the catalogue unless told not to) and swap them in.

        A broken catalogue raises CatalogueError and the old state keeps serving.
        """
        with self._lock:
            previous = self._state
            new_catalogue = (
                load_catalogue(self._rules_dir) if catalogue or previous is None else previous.catalogue
            )
            version = self._entries.data_version()
            index = Index(self._entries.iter_all(), f"d{version}", self._clock())
            self._state = State(new_catalogue, index)
            log.info("snapshot_swapped", catalogue_version=new_catalogue.version,
                     data_version=index.version, entries=index.size)
            return self._state

    def refresh_if_changed(self) -> bool:
        """Reload the index when the store's data version moved (e.g. after a CLI import)."""
        state = self._state
        if state is None or state.index.version == f"d{self._entries.data_version()}":
            return False
        self.reload(catalogue=False)
        return True
