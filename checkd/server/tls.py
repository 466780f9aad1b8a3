"""Transport security: server TLS credentials, mutual TLS, and which listen addresses are loopback."""

from __future__ import annotations

import ipaddress
import ssl
from pathlib import Path

import grpc


def server_credentials(cert: Path, key: Path, client_ca: Path | None = None) -> grpc.ServerCredentials:
    """TLS with the server's certificate chain (and mutual TLS when `client_ca` is given).

    With `client_ca`, every client must present a certificate issued by that CA or the handshake fails.
    """
    chain, private_key = cert.read_bytes(), key.read_bytes()
    if client_ca is None:
        return grpc.ssl_server_credentials([(private_key, chain)])
    return grpc.ssl_server_credentials([(private_key, chain)], root_certificates=client_ca.read_bytes(),
                                       require_client_auth=True)


def check_key_pair(cert: Path, key: Path) -> str | None:
    """None when `key` is the private key of the certificate in `cert`, else what is wrong with the pair.

    gRPC reports a mismatched pair only as "Failed to bind"; loading the pair here names the files.
    """
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(cert, key)
    except ssl.SSLError as exc:
        reason = exc.reason or str(exc)
        if "KEY_VALUES_MISMATCH" in str(exc) or "MISMATCH" in reason.upper():
            return f"the private key {key} does not match the certificate {cert}"
        return f"cannot use the certificate {cert} with the private key {key}: {reason}"
    except OSError as exc:
        return f"cannot read the certificate {cert} or the private key {key}: {exc.strerror or exc}"
    return None


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    """A server-side TLS context with this certificate and key (for the ops listener)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(cert, key)
    return context


def listen_host(listen: str) -> str:
    """The host part of HOST:PORT, without IPv6 brackets."""
    host = listen.rsplit(":", 1)[0]
    return host[1:-1] if host.startswith("[") and host.endswith("]") else host


def is_loopback(listen: str) -> bool:
    """True when HOST:PORT binds only the loopback interface (plain text is tolerated there)."""
    host = listen_host(listen)
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name or a wildcard: reachable from elsewhere


def client_channel(target: str, ca: Path | None = None, cert: Path | None = None,
                   key: Path | None = None) -> grpc.Channel:
    """A channel to a daemon: TLS when a CA is given (mutual with cert and key), else plain text."""
    if ca is None:
        return grpc.insecure_channel(target)
    credentials = grpc.ssl_channel_credentials(
        root_certificates=ca.read_bytes(),
        private_key=key.read_bytes() if key else None,
        certificate_chain=cert.read_bytes() if cert else None,
    )
    return grpc.secure_channel(target, credentials)
