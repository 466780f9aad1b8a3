"""The current catalogue and index as one immutable pair, swapped atomically on reload."""

from __future__ import annotations

import datetime as dt
import gc
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import structlog

from checkd.decide.index import Index
from checkd.decide.snapshot_file import Header, SnapshotRefused, write_file
from checkd.decide.storage import EntryReader
from checkd.errors import DataStale
from checkd.model import ListEntry
from checkd.rules.catalogue import Catalogue, load_catalogue

log = structlog.get_logger(__name__)
T = TypeVar("T")


def _built_without_gc(build: Callable[[], T]) -> T:
    """Build an index (or write its file) with the cyclic collector paused, then keep it out of later passes.

    Millions of new objects would trigger collection after collection while the index grows, each
    full pass walking everything built so far. The index holds no reference cycles (refcounting
    frees a replaced one), so freezing it also spares every later full pass, and the pauses those
    passes cause while serving, from walking it.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        index = build()
    finally:
        if was_enabled:
            gc.enable()
    gc.freeze()
    return index


def write_current_file(entries: EntryReader, path: Path, store: str, version: int) -> Header | None:
    """Write the index snapshot file of data version `version`; None, and no file, if the store moved.

    A write between reading the version and the last entry would leave a file labelled with a
    version whose entries it does not hold: the version is read again after, and such a file removed.
    """
    header = _built_without_gc(lambda: write_file(entries.iter_all(), path, store, version))
    if entries.data_version() != version:
        path.unlink(missing_ok=True)
        return None
    return header


def data_version_number(version: str) -> int:
    """The number of a data version as answers name it ("d42" -> 42)."""
    return int(version.removeprefix("d") or 0)


@dataclass(frozen=True, slots=True)
class State:
    """What a request sees from start to end: one catalogue and one index."""

    catalogue: Catalogue
    index: Index


class Snapshots:
    """Holds the current State; a reload builds a new one beside it and swaps one reference."""

    def __init__(
        self,
        rules_dir: Path,
        entries: EntryReader,
        clock: Callable[[], dt.datetime],
        catalogue: Catalogue | None = None,
        index_file: Path | None = None,
        store: str = "",
    ) -> None:
        self._rules_dir = rules_dir
        # The snapshot file of the index (None: built in memory at every load) and the identity
        # of the store, which a file must name to be used.
        self._index_file = index_file
        self._store = store
        # A catalogue read before the first load (the access policy is checked against it before
        # the port is bound); the first load uses it instead of reading rules/ again.
        self._first_catalogue = catalogue
        self._entries = entries
        self._clock = clock
        self._lock = threading.Lock()  # one reload at a time; readers never wait on it
        self._state: State | None = None
        # Notified at every swap, for callers that require a data version not reached yet.
        self._swapped = threading.Condition(threading.Lock())
        # When the source last confirmed the data in force (the store's record of the last import or
        # upsert, read at each load and poll); the data's age, and the staleness fail-safe, count
        # from here, so a dead nightly import shows however often the daemon polls.
        self._confirmed_at: dt.datetime | None = None

    @property
    def current(self) -> State:
        """The state in force (raises if nothing was loaded yet)."""
        state = self._state
        if state is None:
            from checkd.errors import NotLoaded

            raise NotLoaded("catalogue and index are not loaded yet")
        return state

    @property
    def first_catalogue(self) -> Catalogue:
        """The catalogue given at construction, else the one in force (loading it if need be)."""
        if self._first_catalogue is not None:
            return self._first_catalogue
        state = self._state
        if state is not None:
            return state.catalogue
        self._first_catalogue = load_catalogue(self._rules_dir)
        return self._first_catalogue

    @property
    def loaded(self) -> bool:
        """True once a first state is in force."""
        return self._state is not None

    def data_age(self, now: dt.datetime) -> dt.timedelta | None:
        """Time since the source last confirmed the data in force; None before the first load."""
        confirmed = self._confirmed_at
        return None if confirmed is None else max(now - confirmed, dt.timedelta(0))

    def reload(self, *, catalogue: bool = True) -> State:
        """Rebuild the index (and the catalogue unless told not to) and swap them in.

        A broken catalogue raises CatalogueError and the old state keeps serving.
        """
        with self._lock:
            previous = self._state
            if previous is None and self._first_catalogue is not None:
                new_catalogue = self._first_catalogue
            elif catalogue or previous is None:
                new_catalogue = load_catalogue(self._rules_dir)
            else:
                new_catalogue = previous.catalogue
            version, confirmed = self._entries.data_state()
            index = self._index_at(version)
            swapped = self._swap(State(new_catalogue, index))
            self._note_confirmed(confirmed, index.loaded_at)
            log.info(
                "snapshot_swapped",
                catalogue_version=new_catalogue.version,
                data_version=index.version,
                entries=index.size,
            )
            return swapped

    def _index_at(self, version: int) -> Index:
        """The index of data version `version`: from its snapshot file, else built (writing the file)."""
        path = self._index_file
        if path is None:
            return _built_without_gc(lambda: Index(self._entries.iter_all(), f"d{version}", self._clock()))
        try:
            mapped = Index.open(path, self._store, version, self._clock())
        except SnapshotRefused as exc:
            log.info("index_file_refused", path=str(path), reason=str(exc))
        else:
            log.info("index_file_used", path=str(path), data_version=mapped.version, entries=mapped.size)
            return mapped
        index: Index | None
        try:
            written = write_current_file(self._entries, path, self._store, version)
            index = None if written is None else Index.open(path, self._store, version, self._clock())
        except (OSError, SnapshotRefused) as exc:  # e.g. a read-only directory: serve from memory
            log.warning("index_file_not_written", path=str(path), reason=str(exc))
            index = None
        if index is None:  # no file, or the store moved while it was read: the next poll catches up
            return _built_without_gc(lambda: Index(self._entries.iter_all(), f"d{version}", self._clock()))
        log.info("index_file_written", path=str(path), data_version=index.version, entries=index.size)
        return index

    def apply(self, changed: Sequence[ListEntry], version: int) -> State:
        """Swap in the index with `changed` entries upserted as data version `version`.

        Costs in proportion to the change; falls back to a full reload when the store also
        moved in another way (e.g. a CLI import in between), so no change is ever skipped.
        """
        with self._lock:
            state = self.current
            if data_version_number(state.index.version) >= version:
                return state  # the announcement of this very change was applied first
            if state.index.version == f"d{version - 1}":
                return self._updated(state, changed, version)
        return self.reload(catalogue=False)

    def follow(self, version: int, changed: Callable[[], Sequence[ListEntry]] | None) -> bool:
        """Bring the index to data version `version`, announced by another process; True if it moved.

        The next version is applied incrementally from the `changed` entries (read only then); a
        gap, or a change that named no entries, rebuilds; a version already held changes nothing.
        """
        with self._lock:
            state = self.current
            held = data_version_number(state.index.version)
            if held >= version:
                return False
            if changed is not None and held == version - 1:
                self._updated(state, changed(), version)
                return True
        return self.refresh_if_changed()

    def require(self, version: int, wait: float) -> None:
        """Return once data version `version` (or a later one) is in force; DataStale after `wait` seconds.

        A caller that has seen a change elsewhere (another replica answered with that version)
        asks for it here; the change usually arrives within the wait, announced by the store.
        """
        if version <= 0 or self._held() >= version:
            return
        with self._swapped:
            self._swapped.wait_for(lambda: self._held() >= version, timeout=wait)
        held = self._held()
        if held < version:
            raise DataStale(
                f"data version d{version} is required and this replica holds d{held}: the change has "
                "not reached it yet; retry in a second (or at another replica)"
            )

    def _held(self) -> int:
        state = self._state
        return -1 if state is None else data_version_number(state.index.version)

    def _updated(self, state: State, changed: Sequence[ListEntry], version: int) -> State:
        """Swap in `state`'s index with `changed` upserted as `version` (the caller holds the lock)."""
        index = state.index.updated(changed, f"d{version}", self._clock())
        swapped = self._swap(State(state.catalogue, index))
        self._note_confirmed(self._entries.data_state()[1], index.loaded_at)
        log.info("snapshot_updated", data_version=index.version, changed=len(changed), entries=index.size)
        return swapped

    def _swap(self, state: State) -> State:
        self._state = state
        with self._swapped:
            self._swapped.notify_all()
        return state

    def refresh_if_changed(self) -> bool:
        """Reload the index when the store's data version moved (e.g. after a CLI import)."""
        state = self._state
        if state is None:
            return False
        version, confirmed = self._entries.data_state()
        if state.index.version == f"d{version}":
            self._note_confirmed(confirmed, state.index.loaded_at)
            return False
        self.reload(catalogue=False)
        return True

    def _note_confirmed(self, confirmed: dt.datetime | None, loaded_at: dt.datetime) -> None:
        """Take the store's confirmation time; a store that never recorded one ages from the first load.

        A store written before checkd recorded the time has none until its next import: counting
        from the daemon's first load (never refreshed by a poll) still lets the fail-safe trip.
        """
        if confirmed is not None:
            self._confirmed_at = confirmed
        elif self._confirmed_at is None:
            self._confirmed_at = loaded_at
