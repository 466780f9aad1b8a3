"""What ties the `list_entries` table to the ledger: a digest per stored entry, carried by admin records.

Every registry act that changes entries (upsert, import, revoke, reinstate) appends admin records
that name each entry it changed with `entry_digest` of the entry as stored after the change, in
the same transaction as the change. `entry_problems` checks the table against those records.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from typing import Any

import orjson

from checkd.model import ListEntry

ENTRIES = "entries"  # admin payload key: {entry_id: digest} of the entries the record changed
# Entries named per admin record: a half-million-row import becomes ~100 records of ~1 MB, each
# in the same transaction as the import.
ENTRIES_PER_RECORD = 5000


def entry_digest(entry: ListEntry) -> str:
    """sha256 of the canonical JSON of every stored field of an entry, acts of the credit office included.

    (The row's `updated_at` bookkeeping time is not part of it; `entry_relations` rows are
    derived from `related`, which is.)
    """
    revocation, reinstated = entry.revocation, entry.reinstatement
    canonical = {
        "entry_id": entry.entry_id,
        "subject_key": entry.subject_key,
        "display_id": entry.display_id,
        "subject_type": entry.subject_type.value,
        "subject_name": entry.subject_name,
        "list_id": entry.list_id,
        "authority": entry.authority,
        "document_no": entry.document_no,
        "level": entry.level.value,
        "start": entry.start.isoformat(),
        "end": entry.end.isoformat() if entry.end else None,
        "reason": entry.reason,
        "severity": entry.severity,
        "org_code": entry.org_code,
        "registration_no": entry.registration_no,
        "related": [[p.role.value, p.subject_key, p.masked_id, p.name] for p in entry.related],
        "revocation": None
        if revocation is None
        else [_instant(revocation.at), revocation.reason, revocation.document_no, revocation.kind],
        "reinstatement": None
        if reinstated is None
        else [
            _instant(reinstated.at),
            reinstated.reason,
            reinstated.document_no,
            _instant(reinstated.lifted_at),
            reinstated.lifted_document_no,
        ],
    }
    return hashlib.sha256(orjson.dumps(canonical, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _instant(value: dt.datetime) -> str:
    """An instant in one spelling whichever zone the store handed it back in."""
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def change_payloads(
    action: str,
    caller: str,
    changed: Sequence[ListEntry],
    *,
    kept_revoked: AbstractSet[str] | None = None,
    **facts: Any,
) -> list[bytes]:
    """The admin record payloads of a registry act: who, what, and each changed entry's digest.

    One record per ENTRIES_PER_RECORD entries (`part`/`parts` say which); all of them are
    committed with the change. `kept_revoked` (upserts): each part lists its entries kept revoked.
    """
    chunks = [changed[i : i + ENTRIES_PER_RECORD] for i in range(0, len(changed), ENTRIES_PER_RECORD)] or [[]]
    payloads = []
    for part, chunk in enumerate(chunks, start=1):
        body: dict[str, Any] = {
            "action": action,
            "caller": caller,
            **facts,
            ENTRIES: {e.entry_id: entry_digest(e) for e in chunk},
        }
        if kept_revoked is not None:
            body["kept_revoked"] = [e.entry_id for e in chunk if e.entry_id in kept_revoked]
        if len(chunks) > 1:
            body.update(part=part, parts=len(chunks))
        payloads.append(json.dumps(body, ensure_ascii=False, sort_keys=True, default=str).encode())
    return payloads


def entry_problems(
    entries: Iterable[ListEntry], admin_payloads: Iterable[tuple[int, Mapping[str, Any]]]
) -> list[str]:
    """Entries that differ from the last admin record naming them, have none, or are named but missing.

    `admin_payloads` are (seq, decoded payload) of the chain's admin records, in any order;
    records without entry digests (reload, older records) are ignored.
    """
    last: dict[str, tuple[int, str]] = {}
    for seq, payload in sorted(admin_payloads, key=lambda item: item[0]):
        named = payload.get(ENTRIES) if isinstance(payload, Mapping) else None
        if not isinstance(named, Mapping):
            continue
        for entry_id, digest in named.items():
            last[str(entry_id)] = (seq, str(digest))
    problems = []
    seen = set()
    for entry in entries:
        seen.add(entry.entry_id)
        recorded = last.get(entry.entry_id)
        if recorded is None:
            problems.append(
                f"entry {entry.entry_id}: no admin record names it (changed outside the "
                "audited registry path)"
            )
        elif recorded[1] != entry_digest(entry):
            problems.append(
                f"entry {entry.entry_id}: differs from admin record {recorded[0]}, "
                "the last act that changed it"
            )
    for entry_id in sorted(last.keys() - seen, key=lambda e: last[e][0]):
        problems.append(
            f"entry {entry_id}: named by admin record {last[entry_id][0]} but missing from list_entries"
        )
    return problems


__all__ = ["ENTRIES", "change_payloads", "entry_digest", "entry_problems"]
