"""The console's one way to the daemon: RegistryService calls made with the operator's own token."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from grpc_status import rpc_status

from checkd.api.v1 import registry_pb2 as reg
from checkd.api.v1 import registry_pb2_grpc
from checkd.server.tls import client_channel

# Long enough for a whole-chain verification or a large import on a busy store.
SLOW_CALL_SECONDS = 300.0
CALL_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class Refused(Exception):
    """The daemon refused a call: its status code, message and field violations, to show the operator."""

    code: str
    message: str
    violations: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        """The refusal as one line (code and message)."""
        return f"{self.code}: {self.message}"


class Daemon:
    """A channel to the daemon; every call carries the signed-in operator's bearer token.

    The console holds no store and no credentials of its own: what an operator may do is what the
    daemon's access policy lets that operator's token do, and the ledger names that operator.
    """

    def __init__(
        self, target: str, ca: Path | None = None, cert: Path | None = None, key: Path | None = None
    ) -> None:
        self.target = target
        self._channel = client_channel(target, ca, cert, key)
        self._stub = registry_pb2_grpc.RegistryServiceStub(self._channel)

    def close(self) -> None:
        """Close the channel."""
        self._channel.close()

    def call(self, token: str, method: str, request: Any, timeout: float = CALL_SECONDS) -> Any:
        """One RegistryService call as the operator holding `token`; a refusal raises Refused."""
        try:
            return getattr(self._stub, method)(
                request, timeout=timeout, metadata=(("authorization", f"Bearer {token}"),)
            )
        except grpc.RpcError as exc:
            raise _refused(exc) from None

    def state(self, token: str) -> reg.StateResponse:
        """Who the token's holder is and what is in force (the sign-in question)."""
        answer: reg.StateResponse = self.call(token, "GetState", reg.GetStateRequest())
        return answer


def _refused(exc: grpc.RpcError) -> Refused:
    code = exc.code()
    violations: list[tuple[str, str]] = []
    status = rpc_status.from_call(exc)
    if status is not None:
        from google.rpc import error_details_pb2

        for detail in status.details:
            bad = error_details_pb2.BadRequest()
            if detail.Unpack(bad):
                violations += [(v.field, v.description) for v in bad.field_violations]
    return Refused(code.name if code is not None else "UNKNOWN", exc.details() or "", tuple(violations))
