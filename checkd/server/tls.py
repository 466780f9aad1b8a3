"""gRPC transport security: server TLS credentials (mutual TLS with a client CA) and client channels."""

from __future__ import annotations

from pathlib import Path

import grpc


def server_credentials(cert: Path, key: Path, client_ca: Path | None = None) -> grpc.ServerCredentials:
    """TLS with the server's certificate chain (and mutual TLS when `client_ca` is given).

    With `client_ca`, every client must present a certificate issued by that CA or the handshake fails.
    """
    chain, private_key = cert.read_bytes(), key.read_bytes()
    if client_ca is None:
        return grpc.ssl_server_credentials([(private_key, chain)])
    return grpc.ssl_server_credentials(
        [(private_key, chain)], root_certificates=client_ca.read_bytes(), require_client_auth=True
    )


def client_channel(
    target: str, ca: Path | None = None, cert: Path | None = None, key: Path | None = None
) -> grpc.Channel:
    """A channel to a daemon: TLS when a CA is given (mutual with cert and key), else plain text."""
    if ca is None:
        return grpc.insecure_channel(target)
    credentials = grpc.ssl_channel_credentials(
        root_certificates=ca.read_bytes(),
        private_key=key.read_bytes() if key else None,
        certificate_chain=cert.read_bytes() if cert else None,
    )
    return grpc.secure_channel(target, credentials)
