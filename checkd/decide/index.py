"""List entries -> an immutable lookup snapshot keyed by subject (with the organisation-code cross-walk).

The entries sit in a snapshot (checkd/decide/snapshot_file.py: a memory-mapped file, or the same
format in memory), decoded when a lookup hits them; the changes since the snapshot was written
(upserts, revocations, reinstatements) sit in a small overlay of dicts that hides the entries they
replace.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path

from checkd.decide.dict_index import DictIndex
from checkd.decide.snapshot_file import Snapshot, in_memory, open_file
from checkd.model import EntryHit, ListEntry, MatchedBy, Role, SubjectQuery, SubjectType

_EMPTY: frozenset[str] = frozenset()


class Index:
    """All list entries of one data version, ready for lookups; never mutated after build."""

    def __init__(self, entries: Iterable[ListEntry], version: str, loaded_at: dt.datetime) -> None:
        self.version = version
        self.loaded_at = loaded_at
        self._base = in_memory(entries)
        self._overlay: DictIndex | None = None
        self._replaced = _EMPTY  # ids of the base's entries the overlay replaces
        self._size = self._base.size

    @classmethod
    def from_snapshot(cls, snapshot: Snapshot, version: str, loaded_at: dt.datetime) -> Index:
        """An index over an opened snapshot."""
        index = cls.__new__(cls)
        index.version = version
        index.loaded_at = loaded_at
        index._base = snapshot
        index._overlay = None
        index._replaced = _EMPTY
        index._size = snapshot.size
        return index

    @classmethod
    def open(cls, path: Path, store: str, data_version: int, loaded_at: dt.datetime) -> Index:
        """The index of a snapshot file of `store` at `data_version` (SnapshotRefused otherwise)."""
        return cls.from_snapshot(open_file(path, store, data_version), f"d{data_version}", loaded_at)

    @property
    def size(self) -> int:
        """How many entries the index holds."""
        return self._size

    def updated(self, changed: Iterable[ListEntry], version: str, loaded_at: dt.datetime) -> Index:
        """A new index with `changed` entries added or replaced; this one is left untouched.

        The change goes to the overlay (a copy of this one's, updated), so an upsert or a
        revocation costs in proportion to its size and to the changes since the snapshot.
        """
        touched = list({e.entry_id: e for e in changed}.values())  # the last version of each wins
        base = self._base
        overlay = self._overlay or DictIndex((), version, loaded_at)
        overlay = overlay.updated(touched, version, loaded_at)
        replaced = self._replaced | {e.entry_id for e in touched if base.find_id(e.entry_id) is not None}
        new = Index.__new__(Index)
        new.version = version
        new.loaded_at = loaded_at
        new._base = base  # shared: its decoded entries stay the same objects
        new._overlay = overlay
        new._replaced = frozenset(replaced)
        new._size = base.size - len(new._replaced) + overlay.size
        return new

    def lookup(self, query: SubjectQuery) -> list[EntryHit]:
        """Every entry that names this subject, or ties it to a listed organisation by a role."""
        base = self._base
        key = query.key
        under_key = base.find(key)
        org_code = query.org_code
        under_org = base.find(org_code) if org_code else None
        overlay = self._overlay
        if under_key is None and under_org is None and overlay is None:
            return []  # the common case: a subject on no list
        person = query.subject_type is SubjectType.PERSON
        direct: Sequence[ListEntry] = () if under_key is None else under_key.direct
        crosswalk: Sequence[ListEntry] = () if under_org is None else under_org.org_code
        related: Sequence[tuple[Role, ListEntry]] = (
            () if under_key is None or not person else under_key.related
        )
        replaced = self._replaced
        if replaced:  # the overlay holds these entries' current versions
            direct = [e for e in direct if e.entry_id not in replaced]
            crosswalk = [e for e in crosswalk if e.entry_id not in replaced]
            related = [r for r in related if r[1].entry_id not in replaced]
        if overlay is not None:
            direct = [*direct, *overlay.direct(key)]
            if org_code:
                crosswalk = [*crosswalk, *overlay.crosswalk(org_code)]
            if person:
                related = [*related, *overlay.related(key)]
        if not (direct or crosswalk or related):
            return []
        hits: list[EntryHit] = []
        seen: set[str] = set()
        for entry in direct:
            seen.add(entry.entry_id)
            matched_by = MatchedBy.BUSINESS_REG_NO if key == entry.registration_no else _key_kind(entry)
            hits.append(EntryHit(entry, matched_by, Role.SUBJECT))
        # The cross-walk: an entry under the USCC is found by its organisation code and the reverse.
        for entry in crosswalk:
            if entry.entry_id not in seen:
                seen.add(entry.entry_id)
                hits.append(EntryHit(entry, MatchedBy.ORG_CODE, Role.SUBJECT))
        for role, entry in related:
            hits.append(EntryHit(entry, MatchedBy.RELATED, role))
        return hits


def _key_kind(entry: ListEntry) -> MatchedBy:
    if entry.subject_type is SubjectType.PERSON:
        return MatchedBy.RESIDENT_ID
    return _KEY_KINDS.get(len(entry.subject_key), MatchedBy.ID)


# An organisation's key kind by its length (the person keys are keyed hashes: see _key_kind).
_KEY_KINDS = {18: MatchedBy.USCC, 9: MatchedBy.ORG_CODE, 15: MatchedBy.BUSINESS_REG_NO}
