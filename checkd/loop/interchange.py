"""The list-entry interchange format (CSV, JSON Lines, .xlsx): its columns, row validation, all or nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from checkd.days import add_months
from checkd.errors import ImportRejected, Violation
from checkd.limits import ENTRY_ID_CHARS, IMPORT_FIELD_CHARS, SEVERITY_CHARS, TEXT_CHARS, text_problem
from checkd.loop.feeds.files import read_rows as feed_rows
from checkd.model import ListEntry, RelatedPerson, Role, SourceLevel, SubjectType
from checkd.rules.catalogue import Catalogue
from checkd.subjects.ids import Identifier, IdentifierError, IdKind, parse_identifier
from checkd.subjects.keys import SubjectKeyer

REQUIRED = (
    "entry_id",
    "subject_id",
    "subject_name",
    "list",
    "authority",
    "document_no",
    "level",
    "start",
    "reason",
)
# Persons tied to a listed organisation, each as `<role>_id` and `<role>_name` columns.
RELATED_ROLES = (
    Role.LEGAL_REPRESENTATIVE,
    Role.PRINCIPAL_RESPONSIBLE,
    Role.ACTUAL_CONTROLLER,
    Role.DIRECTLY_RESPONSIBLE,
)
OPTIONAL = (
    "end",
    "severity",
    "subject_type",
    "id_type",
    "registration_no",
    *(f"{role.value}_{part}" for role in RELATED_ROLES for part in ("id", "name")),
)
MAX_FIELD = IMPORT_FIELD_CHARS
# Fields the store keeps in bounded columns (checkd/store/tables.py).
FIELD_LIMITS = {
    "entry_id": ENTRY_ID_CHARS,
    "subject_name": TEXT_CHARS,
    "authority": TEXT_CHARS,
    "document_no": TEXT_CHARS,
    "severity": SEVERITY_CHARS,
    **{
        f"{role}_name": TEXT_CHARS
        for role in (
            "legal_representative",
            "principal_responsible",
            "actual_controller",
            "directly_responsible",
        )
    },
}

Row = Mapping[str, Any]


def read_rows(paths: Iterable[str | Path]) -> Iterator[tuple[str, Row | str]]:
    """Yield (`file:line`, row) for every row of the files (see checkd.loop.feeds.files.read_rows).

    A row that cannot even be read is yielded as its error message instead.
    """
    return feed_rows(paths, required=REQUIRED)


def parse_entries(
    rows: Iterable[tuple[str, Row | str]], catalogue: Catalogue, keyer: SubjectKeyer
) -> list[ListEntry]:
    """Validate every row; return the entries, or raise ImportRejected listing every bad row."""
    entries: list[ListEntry] = []
    problems: list[Violation] = []
    seen: dict[str, str] = {}
    for where, row in rows:
        if isinstance(row, str):
            problems.append(Violation("", row, at=where))
            continue
        try:
            entry = parse_entry(row, catalogue, keyer)
        except ValueError as exc:
            problems.append(Violation("", str(exc), at=where))
            continue
        if entry.entry_id in seen:
            problems.append(
                Violation("entry_id", f"{entry.entry_id!r} repeats {seen[entry.entry_id]}", at=where)
            )
            continue
        seen[entry.entry_id] = where
        entries.append(entry)
    if problems:
        raise ImportRejected(problems)
    return entries


def parse_entry(row: Row, catalogue: Catalogue, keyer: SubjectKeyer) -> ListEntry:
    """One interchange row -> a ListEntry; ValueError naming every bad field."""
    problems: list[str] = []
    text = {key: _text(row.get(key)) for key in (*REQUIRED, *OPTIONAL)}
    for key in REQUIRED:
        if not text[key]:
            problems.append(f"{key}: required")
    for key, value in text.items():
        problem = text_problem(value, FIELD_LIMITS.get(key, MAX_FIELD))
        if problem:
            problems.append(f"{key}: {problem}")
    list_type = catalogue.list_types.get(text["list"])
    if text["list"] and list_type is None:
        problems.append(f"list: unknown list {text['list']!r}")
    level = _enum(SourceLevel, text["level"], "level", problems)
    declared_type = _enum(SubjectType, text["subject_type"], "subject_type", problems)
    declared_kind = _enum(IdKind, text["id_type"], "id_type", problems)
    start = _date(text["start"], "start", problems)
    end = _date(text["end"], "end", problems) if text["end"] else None
    identifier = None
    if text["subject_id"]:
        try:
            identifier = parse_identifier(text["subject_id"], declared_kind, declared_type)
        except IdentifierError as exc:
            problems.append(f"subject_id: {exc.reason}")
    subject_type = identifier.subject_type if identifier else None
    if identifier and declared_type and declared_type is not subject_type:
        if identifier.is_person or declared_type is SubjectType.PERSON or identifier.kind is IdKind.USCC:
            problems.append(
                f"subject_type: declared {declared_type.value} but the identifier is "
                f"of a {identifier.subject_type.value}"
            )
        subject_type = declared_type
    if list_type and subject_type and subject_type not in list_type.subject_types:
        problems.append(f"list: {list_type.list_id} cannot hold a {subject_type.value}")
    severity = text["severity"]
    if list_type and severity and list_type.severities and severity not in list_type.severities:
        problems.append(f"severity: {text['severity']!r} is not one of {list(list_type.severities)}")
    if list_type and list_type.polarity is None and not text["severity"]:
        problems.append(f"severity: required for the graded list {list_type.list_id}")
    if start and end and end < start:
        problems.append(f"end: {end} is before start {start}")
    if list_type and start:
        # No explicit end: the time rules (edition in force at the start, the list's field) set it.
        if end is None:
            end = catalogue.time_rules.default_end(list_type, start)
        if end and list_type.max_months and end >= add_months(start, list_type.max_months):
            problems.append(
                f"end: beyond the {list_type.max_months}-month maximum publication "
                f"period of {list_type.list_id}"
            )
        elif end and (beyond := catalogue.time_rules.end_problem(list_type, start, end)):
            problems.append(f"end: {beyond}")
    related = _related(text, keyer, problems)
    registration_no = _registration_no(text["registration_no"], identifier, problems)
    if identifier and related and identifier.is_person:
        problems.append(f"{related[0].role.value}_id: only an organisation has related persons")
    if problems:
        raise ValueError("; ".join(problems))
    assert identifier is not None and level is not None and start is not None
    assert subject_type is not None and list_type is not None
    return ListEntry(
        entry_id=text["entry_id"],
        subject_key=keyer.key(identifier),
        display_id=identifier.masked(),
        subject_type=subject_type,
        subject_name=text["subject_name"],
        list_id=list_type.list_id,
        authority=text["authority"],
        document_no=text["document_no"],
        level=level,
        start=start,
        end=end,
        reason=text["reason"],
        severity=text["severity"],
        org_code=identifier.org_code,
        registration_no=registration_no,
        related=related,
    )


def _registration_no(raw: str, identifier: Identifier | None, problems: list[str]) -> str:
    """A legacy business registration number an organisation's entry also answers to."""
    if not raw:
        return ""
    if identifier is not None and identifier.is_person:
        problems.append("registration_no: only an organisation has a business registration number")
        return ""
    try:
        return parse_identifier(raw, IdKind.BUSINESS_REG_NO).value
    except IdentifierError as exc:
        problems.append(f"registration_no: {exc.reason}")
        return ""


def _related(text: Mapping[str, str], keyer: SubjectKeyer, problems: list[str]) -> tuple[RelatedPerson, ...]:
    related = []
    for role in RELATED_ROLES:
        raw = text[f"{role.value}_id"]
        if not raw:
            continue
        try:
            person = parse_identifier(raw, subject_type=SubjectType.PERSON)  # a role is always a person
        except IdentifierError as exc:
            problems.append(f"{role.value}_id: {exc.reason}")
            continue
        if not person.is_person:
            problems.append(f"{role.value}_id: not a personal identity number")
            continue
        related.append(RelatedPerson(role, keyer.key(person), person.masked(), text[f"{role.value}_name"]))
    return tuple(related)


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _enum(kind: Any, value: str, field: str, problems: list[str]) -> Any:
    if not value:
        return None
    try:
        return kind(value)
    except ValueError:
        problems.append(f"{field}: {value!r} is not one of {[m.value for m in kind]}")
        return None


def _date(value: str, field: str, problems: list[str]) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        problems.append(f"{field}: {value!r} is not an ISO date (YYYY-MM-DD)")
        return None
