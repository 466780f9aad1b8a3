"""Publication-period rules by edition and field: default ends on import, minimum before repair."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from checkd.days import add_months
from checkd.errors import Violation
from checkd.model import ListType

TIME_RULES_FILE = "time_rules.yaml"


@dataclass(frozen=True, slots=True)
class Period:
    """The minimum and maximum publication period of one field in one edition, in months."""

    min_months: int
    max_months: int | None


@dataclass(frozen=True, slots=True)
class Edition:
    """One edition of the national publication-period rule, in force between two dates."""

    edition_id: str
    title: str
    effective_from: dt.date
    effective_to: dt.date | None
    periods: Mapping[str, Period]
    uncertain: str = ""

    def in_force(self, day: dt.date) -> bool:
        """True when this edition governs entries that start on `day`."""
        return self.effective_from <= day and (self.effective_to is None or day <= self.effective_to)


@dataclass(frozen=True, slots=True)
class FieldRule:
    """A field of publication rules and the list types it governs."""

    field_id: str
    name: str
    lists: frozenset[str]
    uncertain: str = ""


@dataclass(frozen=True, slots=True)
class AppliedPeriod:
    """The period that governs one entry: which edition, which field, what bounds."""

    edition: Edition
    field: FieldRule
    period: Period

    def describe(self) -> str:
        """A short human reason naming the edition and field."""
        return f"{self.edition.edition_id}/{self.field.field_id}"


@dataclass(frozen=True, slots=True)
class TimeRules:
    """All editions and fields; empty rules leave every list to its own lists.yaml periods."""

    editions: tuple[Edition, ...] = ()
    fields: tuple[FieldRule, ...] = ()
    _field_of_list: Mapping[str, FieldRule] = field(default_factory=dict)

    @classmethod
    def build(cls, editions: tuple[Edition, ...], fields: tuple[FieldRule, ...]) -> TimeRules:
        """Rules with the list -> field lookup precomputed."""
        return cls(editions, fields, {list_id: f for f in fields for list_id in f.lists})

    def applied(self, list_id: str, start: dt.date) -> AppliedPeriod | None:
        """The edition and field period governing an entry on `list_id` starting on `start`."""
        rule = self._field_of_list.get(list_id)
        if rule is None:
            return None
        for edition in self.editions:
            if edition.in_force(start) and rule.field_id in edition.periods:
                return AppliedPeriod(edition, rule, edition.periods[rule.field_id])
        return None

    def default_end(self, list_type: ListType, start: dt.date) -> dt.date | None:
        """The end of an entry imported without one (inclusive); None: until revoked."""
        months = list_type.default_months
        applied = self.applied(list_type.list_id, start)
        if applied is not None and applied.period.max_months is not None and months is not None:
            months = min(months, applied.period.max_months)
        return None if months is None else add_months(start, months) - dt.timedelta(days=1)

    def end_problem(self, list_type: ListType, start: dt.date, end: dt.date) -> str | None:
        """Why an explicit end breaks the field's maximum, or None when it does not."""
        applied = self.applied(list_type.list_id, start)
        if applied is None or applied.period.max_months is None:
            return None
        if end >= add_months(start, applied.period.max_months):
            return (
                f"beyond the {applied.period.max_months}-month maximum publication period "
                f"({applied.describe()})"
            )
        return None

    def repair_problem(self, list_id: str, start: dt.date, day: dt.date) -> str | None:
        """Why a credit repair on `day` comes before the minimum publication period, or None."""
        applied = self.applied(list_id, start)
        if applied is None:
            return None
        earliest = add_months(start, applied.period.min_months)
        if day >= earliest:
            return None
        return (
            f"credit repair is not allowed before the minimum publication period of "
            f"{applied.period.min_months} months ({applied.describe()}: {applied.edition.title}) "
            f"has passed; earliest {earliest.isoformat()}"
        )


def build_time_rules(
    document: Any, list_types: Mapping[str, ListType], rel: str, problems: list[Violation]
) -> TimeRules:
    """Validated TimeRules from a schema-valid time_rules.yaml document; problems name file:line."""

    def line(node: Any, key: str | None = None) -> int:
        if key is not None and hasattr(node, "key_lines"):
            return int(node.key_lines.get(key, getattr(node, "line", 1)))
        return int(getattr(node, "line", 1))

    fields: list[FieldRule] = []
    owner: dict[str, str] = {}
    for i, item in enumerate(document["fields"]):
        if any(f.field_id == item["id"] for f in fields):
            problems.append(
                Violation(
                    f"fields[{i}].id", f"duplicate field id {item['id']}", at=f"{rel}:{line(item, 'id')}"
                )
            )
        for j, list_id in enumerate(item["lists"]):
            at, path = f"{rel}:{item['lists'].item_lines[j]}", f"fields[{i}].lists[{j}]"
            if list_id not in list_types:
                problems.append(Violation(path, f"unknown list {list_id!r}", at=at))
            elif list_id in owner:
                problems.append(
                    Violation(path, f"list {list_id!r} already belongs to field {owner[list_id]}", at=at)
                )
            owner.setdefault(list_id, item["id"])
        fields.append(
            FieldRule(item["id"], item["name"], frozenset(item["lists"]), item.get("uncertain", ""))
        )
    field_ids = {f.field_id for f in fields}
    editions: list[Edition] = []
    for i, item in enumerate(document["editions"]):
        start = dt.date.fromisoformat(item["effective_from"])
        end = dt.date.fromisoformat(item["effective_to"]) if item.get("effective_to") else None
        if end is not None and end < start:
            problems.append(
                Violation(
                    f"editions[{i}].effective_to",
                    "ends before effective_from",
                    at=f"{rel}:{line(item, 'effective_to')}",
                )
            )
        periods: dict[str, Period] = {}
        for field_id, bounds in item["periods"].items():
            at = f"{rel}:{line(item['periods'], field_id)}"
            path = f"editions[{i}].periods.{field_id}"
            if field_id not in field_ids:
                problems.append(Violation(path, f"unknown field {field_id!r}", at=at))
            maximum = bounds.get("max_months")
            if maximum is not None and bounds["min_months"] > maximum:
                problems.append(
                    Violation(path, f"min_months {bounds['min_months']} exceeds max_months {maximum}", at=at)
                )
            periods[field_id] = Period(bounds["min_months"], maximum)
        edition = Edition(item["id"], item["title"], start, end, periods, item.get("uncertain", ""))
        for other in editions:
            if _overlap(edition, other):
                problems.append(
                    Violation(
                        f"editions[{i}].effective_from",
                        f"overlaps edition {other.edition_id}",
                        at=f"{rel}:{line(item, 'effective_from')}",
                    )
                )
        editions.append(edition)
    return TimeRules.build(tuple(editions), tuple(fields))


def _overlap(a: Edition, b: Edition) -> bool:
    a_end = a.effective_to or dt.date.max
    b_end = b.effective_to or dt.date.max
    return a.effective_from <= b_end and b.effective_from <= a_end
