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
    """Base of all errors checkd reports on purpose.

    `retry_after` (seconds), when known, tells the caller how long to wait before a retry; the
    status carries it as google.rpc.RetryInfo. Each class maps to one stable reason
    (checkd/server/status.py, listed in docs/errors.md).
    """

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


class InvalidArgument(CheckdError):
    """The request is malformed; `violations` name each bad field and the reason."""

    def __init__(self, violations: list[Violation] | tuple[Violation, ...], message: str = "") -> None:
        self.violations = tuple(violations)
        super().__init__(message or "; ".join(str(v) for v in self.violations))


class BadIdentifier(InvalidArgument):
    """A subject's identifier is not a valid resident ID, credit code or registration number."""


class UnknownDepartment(InvalidArgument):
    """The request names a department the catalogue does not know."""


class MalformedRequest(InvalidArgument):
    """The request bytes (or JSON) do not decode as the request message."""


class Unauthenticated(CheckdError):
    """No usable credentials: missing, unknown or contradicting each other."""


class CredentialsMissing(Unauthenticated):
    """Neither a client certificate nor a bearer token was presented."""


class TokenInvalid(Unauthenticated):
    """The bearer token is malformed, unknown or expired."""


class CertificateUnknown(Unauthenticated):
    """The verified client certificate names no department of the access policy."""


class CredentialsConflict(Unauthenticated):
    """The client certificate and the bearer token name different departments."""


class PermissionDenied(CheckdError):
    """A known caller asking for something beyond its rights."""


class DepartmentMismatch(PermissionDenied):
    """The request names another department than the authenticated one."""


class NotInRights(PermissionDenied):
    """The matter or scene asked for is outside the department's rights."""


class RegistryForbidden(PermissionDenied):
    """Only the credit office may use RegistryService."""


class OtherDepartmentsCheck(PermissionDenied):
    """The check asked about was made by another department."""


class NotFound(CheckdError):
    """The thing asked for does not exist."""


class CheckNotFound(NotFound):
    """No check has this check_id."""


class EntryNotFound(NotFound):
    """No list entry has this id."""


class MeasureNotFound(NotFound):
    """The catalogue in force has no measure with this id."""


class Unavailable(CheckdError):
    """A dependency (the store) cannot serve now; the caller may retry."""


class Starting(Unavailable):
    """The daemon is still loading its first catalogue and index; retry shortly."""


class ShuttingDown(Unavailable):
    """The daemon is stopping and takes no new writes; retry against it once restarted."""


class CommitTimeout(Unavailable):
    """The ledger did not confirm the write in time; retrying with the same request_id is safe."""


class DataStale(Unavailable):
    """This replica's data has not yet reached the data version the call requires; retry shortly."""


class ResourceExhausted(CheckdError):
    """Beyond capacity; the caller should back off."""


class RateLimited(ResourceExhausted):
    """The department's rate limit is spent; retry after the delay given."""


class PersonProbeLimited(ResourceExhausted):
    """Too many distinct unlisted or invalid person numbers in the window; new ones wait."""


class QueueFull(ResourceExhausted):
    """The ledger's write queue is full; retry with backoff."""


class DeadlineExceeded(CheckdError):
    """The caller's deadline passed before the work started; it is not done."""


class FailedPrecondition(CheckdError):
    """The system is not in a state to do this (e.g. index not loaded).

    `subject` names what the precondition is about (a request_id, an entry id), for the status's
    google.rpc.PreconditionFailure.
    """

    def __init__(self, message: str, *, subject: str = "") -> None:
        super().__init__(message)
        self.subject = subject


class IdempotencyKeyReused(FailedPrecondition):
    """The request_id was first used for a different request; a new request needs a new request_id."""


class NotLoaded(FailedPrecondition):
    """The catalogue and index are not loaded yet."""


class EntryState(FailedPrecondition):
    """The list entry is not in a state for this act (already revoked, not revoked)."""


class RepairNotAllowed(FailedPrecondition):
    """The rules do not allow this credit repair (yet, or at all)."""


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
