"""The one error vocabulary of checkd: every failure a caller can see is one of these."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Violation:
    """One bad field: its path in the request (e.g. `subjects[2].id`) and why."""

    field: str
    description: str


class CheckdError(Exception):
    """Base of all errors checkd reports on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidArgument(CheckdError):
    """The request is malformed; `violations` name each bad field and the reason."""

    def __init__(self, violations: list[Violation] | tuple[Violation, ...], message: str = "") -> None:
        self.violations = tuple(violations)
        super().__init__(message or "; ".join(f"{v.field}: {v.description}" for v in self.violations))


class Unauthenticated(CheckdError):
    """No usable credentials: missing, unknown or contradicting each other."""


class PermissionDenied(CheckdError):
    """A known caller asking for something beyond its rights."""


class NotFound(CheckdError):
    """The thing asked for does not exist."""


class Unavailable(CheckdError):
    """A dependency (the store) cannot serve now; the caller may retry."""


class ResourceExhausted(CheckdError):
    """Beyond capacity; the caller should back off."""


class DeadlineExceeded(CheckdError):
    """The caller's deadline passed before the work started; it is not done."""


class FailedPrecondition(CheckdError):
    """The system is not in a state to do this (e.g. index not loaded)."""


class ImportRejected(CheckdError):
    """An import file had bad rows; nothing was applied. `problems` are (line, reason)."""

    def __init__(self, problems: list[tuple[str, str]], total: int | None = None) -> None:
        self.problems = problems  # the first ones when `total` says there were more
        self.total = len(problems) if total is None else total
        super().__init__(f"{self.total} bad row(s); nothing was imported")


class CatalogueError(CheckdError):
    """The rules/ catalogue is invalid; `problems` are `file:line: field: reason` strings."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("invalid catalogue:\n" + "\n".join(problems))
