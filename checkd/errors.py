"""The one error vocabulary of checkd: every failure a caller can see is one of these."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Violation:
    """One problem with an input: the field at fault, why, and where in a file when it came from one.

    The one shape for every field problem: a request's (`subjects[2].id`), an import row's
    (`at` = `entries.csv:7`), a catalogue's or policy's (`at` = `rules/lists.yaml:12`, field
    `list_types[0].id`). `place` is what a caller is shown as the field; `str()` the whole line.
    """

    field: str
    description: str
    at: str = ""

    @property
    def place(self) -> str:
        """`at` and the field, each when given: `rules/lists.yaml:12: list_types[0].id`."""
        return ": ".join(part for part in (self.at, self.field) if part)

    def __str__(self) -> str:
        return f"{self.place}: {self.description}"


class CheckdError(Exception):
    """Base of all errors checkd reports on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidArgument(CheckdError):
    """The request is malformed; `violations` name each bad field and the reason."""

    def __init__(self, violations: list[Violation] | tuple[Violation, ...], message: str = "") -> None:
        self.violations = tuple(violations)
        super().__init__(message or "; ".join(str(v) for v in self.violations))


class Unauthenticated(CheckdError):
    """No usable credentials: missing, unknown or contradicting each other."""


class PermissionDenied(CheckdError):
    """A known caller asking for something beyond its rights."""


class NotFound(CheckdError):
    """The thing asked for does not exist."""


class Unavailable(CheckdError):
    """A dependency (the store) cannot serve now; the caller may retry."""


class DataStale(Unavailable):
    """This replica does not hold the data version the caller requires yet; retry shortly or elsewhere."""


class ResourceExhausted(CheckdError):
    """Beyond capacity; the caller should back off."""


class DeadlineExceeded(CheckdError):
    """The caller's deadline passed before the work started; it is not done."""


class FailedPrecondition(CheckdError):
    """The system is not in a state to do this (e.g. index not loaded)."""


class ImportRejected(CheckdError):
    """An import file had bad rows; nothing was applied. `problems` name each row (`at`) and the reason."""

    def __init__(self, problems: Sequence[Violation], total: int | None = None) -> None:
        self.problems = tuple(problems)  # the first ones when `total` says there were more
        self.total = len(self.problems) if total is None else total
        super().__init__(f"{self.total} bad row(s); nothing was imported")


class CatalogueError(CheckdError):
    """The rules/ catalogue is invalid; `problems` name each file:line, field and reason."""

    def __init__(self, problems: Sequence[Violation]) -> None:
        self.problems = tuple(problems)
        super().__init__("invalid catalogue:\n" + "\n".join(str(p) for p in self.problems))
