"""List entries -> an immutable lookup snapshot keyed by subject (with the organisation-code cross-walk)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from checkd.model import EntryHit, ListEntry, Role, SubjectQuery, SubjectType


@dataclass(frozen=True, slots=True)
class _Relation:
    role: Role
    entry: ListEntry


class Index:
    """All list entries of one data version, ready for lookups; never mutated after build."""

    def __init__(self, entries: Iterable[ListEntry], version: str, loaded_at: dt.datetime) -> None:
        by_key: dict[str, list[ListEntry]] = defaultdict(list)
        by_org_code: dict[str, list[ListEntry]] = defaultdict(list)
        related: dict[str, list[_Relation]] = defaultdict(list)
        count = 0
        for entry in entries:
            count += 1
            by_key[entry.subject_key].append(entry)
            if entry.org_code:
                by_org_code[entry.org_code].append(entry)
            for person in entry.related:
                related[person.subject_key].append(_Relation(person.role, entry))
        self.version = version
        self.loaded_at = loaded_at
        self.size = count
        self._by_key = {k: tuple(v) for k, v in by_key.items()}
        self._by_org_code = {k: tuple(v) for k, v in by_org_code.items()}
        self._related = {k: tuple(v) for k, v in related.items()}

    def lookup(self, query: SubjectQuery) -> list[EntryHit]:
        """Every entry that names this subject, or ties it to a listed organisation by a role."""
        hits: list[EntryHit] = []
        seen: set[str] = set()
        for entry in self._by_key.get(query.key, ()):
            seen.add(entry.entry_id)
            hits.append(EntryHit(entry, _key_kind(entry), Role.SUBJECT))
        if query.org_code:
            # The cross-walk: an entry under the USCC is found by its organisation code and the reverse.
            for entry in self._by_org_code.get(query.org_code, ()):
                if entry.entry_id not in seen:
                    seen.add(entry.entry_id)
                    hits.append(EntryHit(entry, "org_code", Role.SUBJECT))
        if query.subject_type is SubjectType.PERSON:
            for relation in self._related.get(query.key, ()):
                hits.append(EntryHit(relation.entry, f"related:{relation.role.value}", relation.role))
        return hits


def _key_kind(entry: ListEntry) -> str:
    if entry.subject_type is SubjectType.PERSON:
        return "resident_id"
    return {18: "uscc", 9: "org_code", 15: "business_reg_no"}.get(len(entry.subject_key), "id")
