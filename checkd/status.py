"""Exceptions -> gRPC status codes with google.rpc details, in one place."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import grpc
import structlog
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from checkd.errors import (
    CheckdError,
    FailedPrecondition,
    ImportRejected,
    InvalidArgument,
    NotFound,
    ResourceExhausted,
    Unavailable,
)

log = structlog.get_logger(__name__)
T = TypeVar("T")

_CODES: list[tuple[type[CheckdError], int]] = [
    (InvalidArgument, code_pb2.INVALID_ARGUMENT),
    (ImportRejected, code_pb2.INVALID_ARGUMENT),
    (NotFound, code_pb2.NOT_FOUND),
    (Unavailable, code_pb2.UNAVAILABLE),
    (ResourceExhausted, code_pb2.RESOURCE_EXHAUSTED),
    (FailedPrecondition, code_pb2.FAILED_PRECONDITION),
]


def status_of(error: CheckdError) -> status_pb2.Status:
    """The google.rpc.Status for an error, with BadRequest field violations where it has them."""
    code = next((c for kind, c in _CODES if isinstance(error, kind)), code_pb2.INTERNAL)
    status = status_pb2.Status(code=code, message=error.message)
    violations: list[tuple[str, str]] = []
    if isinstance(error, InvalidArgument):
        violations = [(v.field, v.description) for v in error.violations]
    elif isinstance(error, ImportRejected):
        violations = list(error.problems)
    if violations:
        detail = any_pb2.Any()
        detail.Pack(error_details_pb2.BadRequest(field_violations=[
            error_details_pb2.BadRequest.FieldViolation(field=f, description=d) for f, d in violations
        ]))
        status.details.append(detail)
    return status


def abort(context: grpc.ServicerContext, error: CheckdError) -> NoReturn:
    """End the call with the status of `error`."""
    context.abort_with_status(rpc_status.to_status(status_of(error)))
    raise AssertionError("unreachable")  # abort_with_status raises


def guarded(handler: Callable[[Any, Any, grpc.ServicerContext], T]) -> Callable[..., T]:
    """Wrap a servicer method so every failure leaves with a deliberate status.

    Known errors become their status; anything else is logged in full under an incident id
    and answered INTERNAL with a fixed message, never UNKNOWN with a stack trace.
    """

    def wrapper(self: Any, request: Any, context: grpc.ServicerContext) -> T:
        try:
            return handler(self, request, context)
        except CheckdError as exc:
            abort(context, exc)
        except Exception:
            if context.code() is not None:  # already aborted on purpose
                raise
            incident = uuid.uuid4().hex[:12]
            log.exception("internal_error", incident=incident, rpc=handler.__name__)
            abort(context, _Internal(f"internal error (incident {incident})"))

    wrapper.__name__ = handler.__name__
    wrapper.__doc__ = handler.__doc__
    return wrapper


class _Internal(CheckdError):
    """An unexpected failure, reported without its details."""
