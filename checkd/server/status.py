"""Exceptions -> gRPC status codes with google.rpc details, in one place."""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Callable, Iterator
from typing import Any, NoReturn, TypeVar, cast

import grpc
import structlog
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from checkd.errors import (
    CatalogueError,
    CheckdError,
    DeadlineExceeded,
    FailedPrecondition,
    ImportRejected,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    Unauthenticated,
    Unavailable,
    Violation,
)
from checkd.server.decoding import Undecodable

log = structlog.get_logger(__name__)
T = TypeVar("T")
# Status message and details travel in trailers, which peers cap at 8 KiB: stay well inside.
MAX_MESSAGE = 300  # characters (non-ASCII is percent-encoded, up to 9 bytes each)
MAX_DETAILS_BYTES = 3000

_CODES: list[tuple[type[CheckdError], int]] = [
    (InvalidArgument, code_pb2.INVALID_ARGUMENT),
    (ImportRejected, code_pb2.INVALID_ARGUMENT),
    (CatalogueError, code_pb2.INVALID_ARGUMENT),
    (NotFound, code_pb2.NOT_FOUND),
    (Unauthenticated, code_pb2.UNAUTHENTICATED),
    (PermissionDenied, code_pb2.PERMISSION_DENIED),
    (Unavailable, code_pb2.UNAVAILABLE),
    (ResourceExhausted, code_pb2.RESOURCE_EXHAUSTED),
    (FailedPrecondition, code_pb2.FAILED_PRECONDITION),
    (DeadlineExceeded, code_pb2.DEADLINE_EXCEEDED),
]


def status_of(error: CheckdError) -> status_pb2.Status:
    """The google.rpc.Status for an error, with BadRequest field violations where it has them."""
    code = next((c for kind, c in _CODES if isinstance(error, kind)), code_pb2.INTERNAL)
    status = status_pb2.Status(code=code, message=_clip(error.message, MAX_MESSAGE))
    violations: tuple[Violation, ...] = ()
    if isinstance(error, InvalidArgument):
        violations = error.violations
    elif isinstance(error, ImportRejected | CatalogueError):
        violations = error.problems
    if violations:
        status.details.append(
            _bad_request([(_clip(v.place, 100), _clip(v.description, 200)) for v in violations])
        )
    return status


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
        raise InvalidArgument(
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


class _Internal(CheckdError):
    """An unexpected failure, reported without its details."""
