"""Exceptions -> gRPC status codes with google.rpc details, in one place."""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, NoReturn, TypeVar, cast

import grpc
import structlog
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from checkd import errors as e
from checkd.errors import CheckdError, DeadlineExceeded, InvalidArgument, MalformedRequest, Violation
from checkd.server.decoding import Undecodable
from checkd.store.db import StoreMissing, StoreUnavailable, UnsupportedStore

log = structlog.get_logger(__name__)
T = TypeVar("T")
# Status message and details travel in trailers, which peers cap at 8 KiB: stay well inside.
MAX_MESSAGE = 300  # characters (non-ASCII is percent-encoded, up to 9 bytes each)
MAX_DETAILS_BYTES = 3000
DOMAIN = "checkd"  # google.rpc.ErrorInfo.domain of every checkd error


class _Internal(CheckdError):
    """An unexpected failure, reported without its details (the log has them under the incident id)."""


@dataclass(frozen=True, slots=True)
class Reason:
    """What one error class tells a program: its gRPC code, its stable reason, a default retry delay."""

    error: type[CheckdError]
    code: int
    reason: str
    retry_seconds: float | None = None  # RetryInfo when the error itself gives none


_INVALID, _NOT_FOUND = code_pb2.INVALID_ARGUMENT, code_pb2.NOT_FOUND
_UNAUTHENTICATED, _DENIED = code_pb2.UNAUTHENTICATED, code_pb2.PERMISSION_DENIED
_UNAVAILABLE, _EXHAUSTED = code_pb2.UNAVAILABLE, code_pb2.RESOURCE_EXHAUSTED
_PRECONDITION = code_pb2.FAILED_PRECONDITION

# THE table: error class -> code and reason (part of the contract, docs/errors.md is generated from it).
# A reason names the domain error, not a raise site; the most specific class listed wins.
REASONS: tuple[Reason, ...] = (
    Reason(e.InvalidArgument, _INVALID, "INVALID_FIELD"),
    Reason(e.BadIdentifier, _INVALID, "BAD_IDENTIFIER"),
    Reason(e.UnknownDepartment, _INVALID, "UNKNOWN_DEPARTMENT"),
    Reason(e.MalformedRequest, _INVALID, "MALFORMED_REQUEST"),
    Reason(e.ImportRejected, _INVALID, "IMPORT_REJECTED"),
    Reason(e.CatalogueError, _INVALID, "CATALOGUE_INVALID"),
    Reason(e.Unauthenticated, _UNAUTHENTICATED, "UNAUTHENTICATED"),
    Reason(e.CredentialsMissing, _UNAUTHENTICATED, "CREDENTIALS_MISSING"),
    Reason(e.TokenInvalid, _UNAUTHENTICATED, "TOKEN_INVALID"),
    Reason(e.CertificateUnknown, _UNAUTHENTICATED, "CERTIFICATE_UNKNOWN"),
    Reason(e.CredentialsConflict, _UNAUTHENTICATED, "CREDENTIALS_CONFLICT"),
    Reason(e.PermissionDenied, _DENIED, "PERMISSION_DENIED"),
    Reason(e.DepartmentMismatch, _DENIED, "DEPARTMENT_MISMATCH"),
    Reason(e.NotInRights, _DENIED, "NOT_IN_RIGHTS"),
    Reason(e.RegistryForbidden, _DENIED, "REGISTRY_FORBIDDEN"),
    Reason(e.OtherDepartmentsCheck, _DENIED, "OTHER_DEPARTMENTS_CHECK"),
    Reason(e.NotFound, _NOT_FOUND, "NOT_FOUND"),
    Reason(e.CheckNotFound, _NOT_FOUND, "CHECK_NOT_FOUND"),
    Reason(e.EntryNotFound, _NOT_FOUND, "ENTRY_NOT_FOUND"),
    Reason(e.MeasureNotFound, _NOT_FOUND, "MEASURE_NOT_FOUND"),
    Reason(StoreMissing, _NOT_FOUND, "STORE_MISSING"),
    Reason(e.Unavailable, _UNAVAILABLE, "UNAVAILABLE", 1.0),
    Reason(StoreUnavailable, _UNAVAILABLE, "STORE_UNAVAILABLE", 2.0),
    Reason(e.Starting, _UNAVAILABLE, "STARTING", 2.0),
    Reason(e.ShuttingDown, _UNAVAILABLE, "SHUTTING_DOWN", 2.0),
    Reason(e.CommitTimeout, _UNAVAILABLE, "COMMIT_TIMEOUT", 1.0),
    Reason(e.DataStale, _UNAVAILABLE, "DATA_STALE", 1.0),
    Reason(e.ResourceExhausted, _EXHAUSTED, "RESOURCE_EXHAUSTED", 1.0),
    Reason(e.RateLimited, _EXHAUSTED, "RATE_LIMITED", 1.0),
    Reason(e.PersonProbeLimited, _EXHAUSTED, "PERSON_PROBE_LIMITED", 60.0),
    Reason(e.QueueFull, _EXHAUSTED, "QUEUE_FULL", 0.5),
    Reason(e.FailedPrecondition, _PRECONDITION, "FAILED_PRECONDITION"),
    Reason(e.IdempotencyKeyReused, _PRECONDITION, "IDEMPOTENCY_KEY_REUSED"),
    Reason(e.NotLoaded, _PRECONDITION, "NOT_LOADED"),
    Reason(e.EntryState, _PRECONDITION, "ENTRY_STATE"),
    Reason(e.RepairNotAllowed, _PRECONDITION, "REPAIR_NOT_ALLOWED"),
    Reason(UnsupportedStore, _PRECONDITION, "UNSUPPORTED_STORE"),
    Reason(e.DeadlineExceeded, code_pb2.DEADLINE_EXCEEDED, "DEADLINE_EXCEEDED"),
    Reason(_Internal, code_pb2.INTERNAL, "INTERNAL"),
)
_BY_CLASS = {entry.error: entry for entry in REASONS}


def reason_of(error: CheckdError) -> Reason:
    """The table's entry for the most specific listed class of `error`."""
    for kind in type(error).__mro__:
        found = _BY_CLASS.get(kind)
        if found is not None:
            return found
    return _BY_CLASS[_Internal]


def status_of(error: CheckdError) -> status_pb2.Status:
    """The google.rpc.Status of an error: ErrorInfo, then BadRequest, RetryInfo or PreconditionFailure."""
    entry = reason_of(error)
    status = status_pb2.Status(code=entry.code, message=_clip(error.message, MAX_MESSAGE))
    metadata: dict[str, str] = {}
    violations: tuple[Violation, ...] = ()
    if isinstance(error, InvalidArgument):
        violations = error.violations
    elif isinstance(error, e.ImportRejected | e.CatalogueError):
        violations = error.problems
    if violations:
        metadata["field"] = _clip(violations[0].place, 100)
    status.details.append(
        _pack(error_details_pb2.ErrorInfo(reason=entry.reason, domain=DOMAIN, metadata=metadata))
    )
    if violations:
        status.details.append(
            _bad_request([(_clip(v.place, 100), _clip(v.description, 200)) for v in violations])
        )
    delay = error.retry_after if error.retry_after is not None else entry.retry_seconds
    if entry.code in (_UNAVAILABLE, _EXHAUSTED) and delay is not None:
        retry = error_details_pb2.RetryInfo()
        retry.retry_delay.FromNanoseconds(max(0, round(delay * 1e9)))
        status.details.append(_pack(retry))
    if isinstance(error, e.FailedPrecondition):
        failure = error_details_pb2.PreconditionFailure(
            violations=[
                error_details_pb2.PreconditionFailure.Violation(
                    type=entry.reason,
                    subject=_clip(error.subject, 100),
                    description=_clip(error.message, 200),
                )
            ]
        )
        status.details.append(_pack(failure))
    return status


def _pack(message: Any) -> any_pb2.Any:
    detail = any_pb2.Any()
    detail.Pack(message)
    return detail


def _bad_request(violations: list[tuple[str, str]]) -> any_pb2.Any:
    """BadRequest details, keeping the first violations that fit and counting the rest."""
    kept = len(violations)
    while True:
        shown = violations[:kept]
        if kept < len(violations):
            shown.append(("(more)", f"{len(violations) - kept} more violation(s) not shown"))
        detail = any_pb2.Any()
        detail.Pack(
            error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(field=f, description=d) for f, d in shown
                ]
            )
        )
        if detail.ByteSize() <= MAX_DETAILS_BYTES or kept == 0:
            return detail
        kept = kept // 2 if kept > 8 else kept - 1


def deadline_passed(context: grpc.ServicerContext) -> bool:
    """True when the caller's deadline has already passed (the work would be wasted)."""
    remaining = context.time_remaining()
    return remaining is not None and remaining <= 0


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def abort(context: grpc.ServicerContext, error: CheckdError) -> NoReturn:
    """End the call with the status of `error`."""
    context.abort_with_status(rpc_status.to_status(status_of(error)))
    raise AssertionError("unreachable")  # abort_with_status raises


def guarded(handler: Callable[[Any, Any, grpc.ServicerContext], T]) -> Callable[..., T]:
    """Wrap a servicer method so every failure leaves with a deliberate status.

    Known errors become their status; anything else is logged in full under an incident id
    and answered INTERNAL with a fixed message, never UNKNOWN with a stack trace. A streaming
    handler (a generator) gets the same boundary around its whole iteration.
    """
    if inspect.isgeneratorfunction(handler):
        return cast(Callable[..., T], _guarded_stream(handler))

    def wrapper(self: Any, request: Any, context: grpc.ServicerContext) -> T:
        try:
            _admit(request, context)
            return handler(self, request, context)
        except Exception as exc:
            _fail(context, exc, handler.__name__)

    wrapper.__name__ = handler.__name__
    wrapper.__doc__ = handler.__doc__
    return wrapper


def _guarded_stream(
    handler: Callable[[Any, Any, grpc.ServicerContext], Iterator[Any]],
) -> Callable[[Any, Any, grpc.ServicerContext], Iterator[Any]]:
    """`guarded` for a handler that yields its answers: failures while iterating get a status too."""

    def wrapper(self: Any, request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        try:
            _admit(request, context)
            yield from handler(self, request, context)
        except Exception as exc:
            _fail(context, exc, handler.__name__)

    wrapper.__name__ = handler.__name__
    wrapper.__doc__ = handler.__doc__
    return wrapper


def _admit(request: Any, context: grpc.ServicerContext) -> None:
    """Refuse a request that could not be decoded or whose deadline already passed."""
    if isinstance(request, Undecodable):
        raise MalformedRequest(
            [Violation("(request)", f"not a valid {request.type_name}: {request.reason[:200]}")]
        )
    if deadline_passed(context):
        raise DeadlineExceeded("the call's deadline passed before it was processed")


def _fail(context: grpc.ServicerContext, exc: Exception, rpc: str) -> NoReturn:
    """End the call for `exc`: its own status if it is ours, else INTERNAL under an incident id."""
    if isinstance(exc, CheckdError):
        abort(context, exc)
    if context.code() is not None:  # already aborted on purpose
        raise exc
    incident = uuid.uuid4().hex[:12]
    log.error("internal_error", incident=incident, rpc=rpc, exc_info=exc)
    abort(context, _Internal(f"internal error (incident {incident})"))
