"""The identity the HTTP gateway forwards over its private local channel, trusted only with its secret.

The gateway terminates TLS itself, so the gRPC server never sees the HTTP caller's client
certificate. It forwards the verified certificate's names and the caller's address as metadata,
with a secret the daemon generates at start and hands to the gateway alone, over a unix socket in
a private directory. A call carrying these keys without the secret, or not on that socket, is
treated as carrying none of them: nobody else can claim a certificate identity this way.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field

import grpc

SECRET_KEY = "x-checkd-gateway-secret"
CERT_NAME_KEY = "x-checkd-gateway-cert-name"  # once per name: the CN, then the subject alternative names
PEER_KEY = "x-checkd-gateway-peer"  # the HTTP caller's address, for audit


@dataclass(frozen=True, slots=True)
class GatewayTrust:
    """The secret shared by the daemon and its gateway, and the unix socket it is accepted on."""

    socket_path: str
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)

    @property
    def target(self) -> str:
        """The gRPC target the gateway dials."""
        return f"unix:{self.socket_path}"

    def metadata(self, cert_names: list[str], peer: str) -> list[tuple[str, str]]:
        """What the gateway adds to a forwarded call."""
        return [(SECRET_KEY, self.secret), (PEER_KEY, peer), *((CERT_NAME_KEY, n) for n in cert_names)]

    def vouched(self, context: grpc.ServicerContext) -> bool:
        """Whether this call came from the gateway: on its socket and with its secret."""
        if not str(context.peer()).startswith("unix:"):
            return False
        given = _values(context, SECRET_KEY)
        return len(given) == 1 and hmac.compare_digest(given[0].encode(), self.secret.encode())

    def certificate_names(self, context: grpc.ServicerContext) -> list[str] | None:
        """The forwarded certificate names of a vouched call (None: not a gateway call)."""
        return _values(context, CERT_NAME_KEY) if self.vouched(context) else None

    def peer(self, context: grpc.ServicerContext) -> str:
        """The HTTP caller's address for a vouched call, else the gRPC peer."""
        if self.vouched(context):
            forwarded = _values(context, PEER_KEY)
            if forwarded:
                return f"http {forwarded[0][:100]}"
        return str(context.peer())


def _values(context: grpc.ServicerContext, key: str) -> list[str]:
    found = []
    for name, value in context.invocation_metadata() or ():
        if name == key:
            found.append(value.decode() if isinstance(value, bytes) else str(value))
    return found
