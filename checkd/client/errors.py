"""The typed error a client call raises: the gRPC code plus the ErrorInfo reason and details checkd sends."""

from __future__ import annotations

from dataclasses import dataclass, field

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

# Codes after which the same call may succeed later (docs/integration.md: wait, queue, or review).
TRANSIENT = frozenset(
    {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.DEADLINE_EXCEEDED}
)


@dataclass(frozen=True)
class FieldProblem:
    """One bad field of a request (google.rpc.BadRequest)."""

    field: str
    description: str


@dataclass
class CallError(Exception):
    """A call checkd answered with an error (or that could not reach it).

    Branch on `reason` (docs/errors.md), never on `message`. `transient` says whether the same
    call may succeed later; `retry_after` (seconds) is checkd's advice when it gave one.
    """

    code: grpc.StatusCode
    message: str
    reason: str = ""  # ErrorInfo.reason; "" when checkd was not reached (the channel's own error)
    metadata: dict[str, str] = field(default_factory=dict)
    retry_after: float | None = None
    fields: tuple[FieldProblem, ...] = ()

    def __str__(self) -> str:
        """Code, reason and message, for logs."""
        return f"{self.code.name} {self.reason or '-'}: {self.message}"

    @property
    def transient(self) -> bool:
        """Whether the same call may succeed later (checkd unreachable, busy, or too slow)."""
        return self.code in TRANSIENT

    @property
    def reached(self) -> bool:
        """Whether checkd itself answered (it sends ErrorInfo with every error)."""
        return bool(self.reason)

    @classmethod
    def of(cls, error: grpc.RpcError) -> CallError:
        """The typed error of a failed call."""
        code = error.code() if isinstance(error, grpc.Call) else grpc.StatusCode.UNKNOWN
        message = (error.details() if isinstance(error, grpc.Call) else str(error)) or code.name
        found = cls(code, message)
        status = rpc_status.from_call(error) if isinstance(error, grpc.Call) else None
        for detail in status.details if status is not None else ():
            if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                info = error_details_pb2.ErrorInfo()
                detail.Unpack(info)
                found.reason, found.metadata = info.reason, dict(info.metadata)
            elif detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
                retry = error_details_pb2.RetryInfo()
                detail.Unpack(retry)
                found.retry_after = retry.retry_delay.ToNanoseconds() / 1e9
            elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                bad = error_details_pb2.BadRequest()
                detail.Unpack(bad)
                found.fields = tuple(FieldProblem(v.field, v.description) for v in bad.field_violations)
        return found
