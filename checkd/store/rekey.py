"""Replace every stored person key (entries, relations, related persons) in one transaction."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select, update

from checkd.model import ListEntry
from checkd.store.db import Tx, session_of
from checkd.store.entries import _bump_version, _from_row
from checkd.store.tables import EntryRow, MetaRow, RelatedRow

PERSON_PREFIX = "p:"


class RekeyRefused(ValueError):
    """The store is not in the state a re-key needs (wrong old secret, unknown person key)."""


@dataclass(frozen=True, slots=True)
class RekeyReport:
    """What a re-key changed."""

    persons: int
    entries: int
    relations: int
    data_version: int


def rekey_change(
    fingerprint_key: str, old_fingerprint: str, new_fingerprint: str, new_key_of: Callable[[str, str], str]
) -> Callable[[Tx], tuple[RekeyReport, list[ListEntry]]]:
    """A change swapping every person key for `new_key_of(old_key, masked_id)`, recording the new fingerprint.

    It returns the report and the entries as re-keyed, whose digests its admin records carry. All
    or nothing: any failure (including from `new_key_of`) rolls back every change.
    """

    def apply(tx: Tx) -> tuple[RekeyReport, list[ListEntry]]:
        session = session_of(tx)
        meta = session.get(MetaRow, fingerprint_key, with_for_update=True)
        if meta is None or meta.value != old_fingerprint:
            raise RekeyRefused(
                "the old secret is not the one this store was written with "
                f"(store fingerprint {meta.value if meta else 'none'}, "
                f"old secret {old_fingerprint})"
            )
        mapping: dict[str, str] = {}

        def new_key(old_key: str, masked: str) -> str:
            if old_key not in mapping:
                mapping[old_key] = new_key_of(old_key, masked)
            return mapping[old_key]

        entries = 0
        changed: list[str] = []
        rows = session.execute(
            select(EntryRow.entry_id, EntryRow.subject_key, EntryRow.display_id, EntryRow.related)
        ).all()
        for entry_id, subject_key, display_id, related_json in rows:
            changes: dict[str, str] = {}
            if subject_key.startswith(PERSON_PREFIX):
                changes["subject_key"] = new_key(subject_key, display_id)
            related = json.loads(related_json or "[]")
            if any(str(p.get("key", "")).startswith(PERSON_PREFIX) for p in related):
                for person in related:
                    if str(person.get("key", "")).startswith(PERSON_PREFIX):
                        person["key"] = new_key(person["key"], person["masked"])
                changes["related"] = json.dumps(related, ensure_ascii=False)
            if changes:
                session.execute(update(EntryRow).where(EntryRow.entry_id == entry_id).values(**changes))
                entries += 1
                changed.append(entry_id)
        relations = 0
        for entry_id, person_key, role in session.execute(
            select(RelatedRow.entry_id, RelatedRow.person_key, RelatedRow.role)
        ).all():
            if not person_key.startswith(PERSON_PREFIX):
                continue
            if person_key not in mapping:
                raise RekeyRefused(f"relation of entry {entry_id!r} names a person key no entry carries")
            session.execute(
                update(RelatedRow)
                .where(
                    RelatedRow.entry_id == entry_id,
                    RelatedRow.person_key == person_key,
                    RelatedRow.role == role,
                )
                .values(person_key=mapping[person_key])
            )
            relations += 1
        meta.value = new_fingerprint
        version = _bump_version(session)  # every reader rebuilds its index from the new keys
        rekeyed = (
            [
                _from_row(row)
                for row in session.scalars(select(EntryRow).where(EntryRow.entry_id.in_(changed))).all()
            ]
            if changed
            else []
        )
        return RekeyReport(len(mapping), entries, relations, version), rekeyed

    return apply
