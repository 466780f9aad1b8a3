"""The reference index: list entries in dicts keyed by subject (also the overlay over a snapshot file)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from checkd.model import EntryHit, ListEntry, MatchedBy, Role, SubjectQuery, SubjectType


@dataclass(frozen=True, slots=True)
class _Relation:
    role: Role
    entry: ListEntry


class DictIndex:
    """All list entries of one data version, ready for lookups; never mutated after build."""

    def __init__(self, entries: Iterable[ListEntry], version: str, loaded_at: dt.datetime) -> None:
        by_key: dict[str, list[ListEntry]] = defaultdict(list)
        by_org_code: dict[str, list[ListEntry]] = defaultdict(list)
        related: dict[str, list[_Relation]] = defaultdict(list)
        by_id: dict[str, ListEntry] = {}
        for entry in entries:
            by_id[entry.entry_id] = entry
            _add(entry, by_key, by_org_code, related)
        self.version = version
        self.loaded_at = loaded_at
        self._by_id = by_id
        self._by_key = {k: tuple(v) for k, v in by_key.items()}
        self._by_org_code = {k: tuple(v) for k, v in by_org_code.items()}
        self._related = {k: tuple(v) for k, v in related.items()}

    @property
    def size(self) -> int:
        """How many entries the index holds."""
        return len(self._by_id)

    def direct(self, key: str) -> tuple[ListEntry, ...]:
        """The entries listed under this subject key or registration number."""
        return self._by_key.get(key, ())

    def crosswalk(self, org_code: str) -> tuple[ListEntry, ...]:
        """The entries whose organisation code is this one."""
        return self._by_org_code.get(org_code, ())

    def related(self, key: str) -> tuple[tuple[Role, ListEntry], ...]:
        """The (role, entry) pairs relating a person with this key to a listed organisation."""
        return tuple((r.role, r.entry) for r in self._related.get(key, ()))

    def entry(self, entry_id: str) -> ListEntry | None:
        """One entry by id."""
        return self._by_id.get(entry_id)

    def updated(self, changed: Iterable[ListEntry], version: str, loaded_at: dt.datetime) -> DictIndex:
        """A new index with `changed` entries added or replaced; this one is left untouched.

        Only the keys the changed entries touch are rebuilt, so an upsert or a revocation costs
        in proportion to its size, not to the size of the whole index.
        """
        new = DictIndex((), version, loaded_at)
        new._by_id = dict(self._by_id)
        new._by_key, new._by_org_code, new._related = (
            dict(self._by_key),
            dict(self._by_org_code),
            dict(self._related),
        )
        touched = list({e.entry_id: e for e in changed}.values())  # the last version of each wins
        stale = [new._by_id[e.entry_id] for e in touched if e.entry_id in new._by_id]
        ids = {e.entry_id for e in touched}
        by_key: dict[str, list[ListEntry]] = defaultdict(list)
        by_org_code: dict[str, list[ListEntry]] = defaultdict(list)
        related: dict[str, list[_Relation]] = defaultdict(list)
        for entry in (*stale, *touched):  # every key either version of an entry sits under
            for key in _keys(entry):
                by_key[key] = [e for e in new._by_key.get(key, ()) if e.entry_id not in ids]
            if entry.org_code:
                by_org_code[entry.org_code] = [
                    e for e in new._by_org_code.get(entry.org_code, ()) if e.entry_id not in ids
                ]
            for person in entry.related:
                related[person.subject_key] = [
                    r for r in new._related.get(person.subject_key, ()) if r.entry.entry_id not in ids
                ]
        for entry in touched:
            new._by_id[entry.entry_id] = entry
            _add(entry, by_key, by_org_code, related)
        for target, source in ((new._by_key, by_key), (new._by_org_code, by_org_code)):
            for key, values in source.items():
                _store(target, key, tuple(values))
        for key, relations in related.items():
            _store(new._related, key, tuple(relations))
        return new

    def lookup(self, query: SubjectQuery) -> list[EntryHit]:
        """Every entry that names this subject, or ties it to a listed organisation by a role."""
        direct = self._by_key.get(query.key, ())
        crosswalk = self._by_org_code.get(query.org_code, ()) if query.org_code else ()
        if not (direct or crosswalk) and (
            query.subject_type is not SubjectType.PERSON or query.key not in self._related
        ):
            return []  # the common case: a subject on no list
        hits: list[EntryHit] = []
        seen: set[str] = set()
        for entry in direct:
            seen.add(entry.entry_id)
            matched_by = MatchedBy.BUSINESS_REG_NO if query.key == entry.registration_no else _key_kind(entry)
            hits.append(EntryHit(entry, matched_by, Role.SUBJECT))
        if crosswalk:
            # The cross-walk: an entry under the USCC is found by its organisation code and the reverse.
            for entry in crosswalk:
                if entry.entry_id not in seen:
                    seen.add(entry.entry_id)
                    hits.append(EntryHit(entry, MatchedBy.ORG_CODE, Role.SUBJECT))
        if query.subject_type is SubjectType.PERSON:
            for relation in self._related.get(query.key, ()):
                hits.append(EntryHit(relation.entry, MatchedBy.RELATED, relation.role))
        return hits


def _keys(entry: ListEntry) -> tuple[str, ...]:
    if entry.registration_no and entry.registration_no != entry.subject_key:
        return (entry.subject_key, entry.registration_no)
    return (entry.subject_key,)


def _add(
    entry: ListEntry,
    by_key: dict[str, list[ListEntry]],
    by_org_code: dict[str, list[ListEntry]],
    related: dict[str, list[_Relation]],
) -> None:
    for key in _keys(entry):
        by_key[key].append(entry)
    if entry.org_code:
        by_org_code[entry.org_code].append(entry)
    for person in entry.related:
        related[person.subject_key].append(_Relation(person.role, entry))


def _store(target: dict[str, Any], key: str, values: tuple[Any, ...]) -> None:
    if values:
        target[key] = values
    else:
        target.pop(key, None)


def _key_kind(entry: ListEntry) -> MatchedBy:
    if entry.subject_type is SubjectType.PERSON:
        return MatchedBy.RESIDENT_ID
    return _KEY_KINDS.get(len(entry.subject_key), MatchedBy.ID)


# An organisation's key kind by its length (the person keys are keyed hashes: see _key_kind).
_KEY_KINDS = {18: MatchedBy.USCC, 9: MatchedBy.ORG_CODE, 15: MatchedBy.BUSINESS_REG_NO}
