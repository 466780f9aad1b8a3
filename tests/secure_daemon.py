"""A throwaway CA and certificates, and the real daemon started with TLS / a policy, for security tests."""

from __future__ import annotations

import datetime as dt
import ipaddress
import signal
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from grpc_health.v1 import health_pb2_grpc

from checkd.api.v1 import check_pb2_grpc, registry_pb2_grpc
from tests.daemon import TEST_SECRET, launch, settled_log, wait_until_serving


@dataclass(frozen=True)
class Issued:
    """A certificate and its key, as PEM files on disk."""

    cert: Path
    key: Path


class Pki:
    """A private CA that issues server and client certificates into a directory."""

    def __init__(self, directory: Path, name: str = "checkd test CA") -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self._key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = dt.datetime.now(dt.UTC)
        self._cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .sign(self._key, hashes.SHA256())
        )
        self.ca = directory / f"{_slug(name)}.pem"
        self.ca.write_bytes(self._cert.public_bytes(serialization.Encoding.PEM))

    def issue(self, common_name: str, *, server: bool = False, dns: tuple[str, ...] = ()) -> Issued:
        """A leaf certificate for `common_name` (a server one also names localhost and 127.0.0.1)."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        names: list[x509.GeneralName] = [x509.DNSName(d) for d in dns]
        if server:
            names += [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
            .issuer_name(self._cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        )
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        cert = builder.sign(self._key, hashes.SHA256())
        stem = self.directory / _slug(common_name)
        issued = Issued(stem.with_suffix(".crt"), stem.with_suffix(".key"))
        issued.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        issued.key.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        return issued


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text)


class _Bearer(grpc.UnaryUnaryClientInterceptor, grpc.StreamStreamClientInterceptor):  # type: ignore[misc]
    """Adds `authorization: Bearer <token>` to every call (also on plain-text loopback channels)."""

    def __init__(self, header: str) -> None:
        self._header = header

    def _details(self, details: Any) -> Any:
        metadata = [*(details.metadata or ()), ("authorization", self._header)]
        return details._replace(metadata=metadata)

    def intercept_unary_unary(self, continuation: Callable[..., Any], details: Any, request: Any) -> Any:
        """Unary calls."""
        return continuation(self._details(details), request)

    def intercept_stream_stream(
        self, continuation: Callable[..., Any], details: Any, request_iterator: Any
    ) -> Any:
        """Streaming calls."""
        return continuation(self._details(details), request_iterator)


@dataclass
class Client:
    """Stubs over one channel with one set of credentials."""

    channel: grpc.Channel
    check: check_pb2_grpc.CheckServiceStub = field(init=False)
    registry: registry_pb2_grpc.RegistryServiceStub = field(init=False)
    health: health_pb2_grpc.HealthStub = field(init=False)

    def __post_init__(self) -> None:
        self.check = check_pb2_grpc.CheckServiceStub(self.channel)
        self.registry = registry_pb2_grpc.RegistryServiceStub(self.channel)
        self.health = health_pb2_grpc.HealthStub(self.channel)


@dataclass
class SecureDaemon:
    """A daemon process started with security options, and a way to connect to it as anyone."""

    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    ca: Path | None  # the CA that signed the server certificate; None: plain text
    clients: list[Client] = field(default_factory=list)

    def connect(
        self,
        cert: Issued | None = None,
        token: str | None = None,
        *,
        header: str | None = None,
        ca: Path | None = None,
    ) -> Client:
        """A client presenting `cert` (mutual TLS) and/or a bearer token (or a raw `header`)."""
        target = f"127.0.0.1:{self.port}"
        if self.ca is None:
            channel = grpc.insecure_channel(target)
        else:
            credentials = grpc.ssl_channel_credentials(
                root_certificates=(ca or self.ca).read_bytes(),
                private_key=cert.key.read_bytes() if cert else None,
                certificate_chain=cert.cert.read_bytes() if cert else None,
            )
            channel = grpc.secure_channel(target, credentials)
        if token is not None or header is not None:
            value = header if header is not None else f"Bearer {token}"
            channel = grpc.intercept_channel(channel, _Bearer(value))
        client = Client(channel)
        self.clients.append(client)
        return client

    def log_text(self) -> str:
        """Everything the daemon logged so far."""
        return settled_log(self.log_path, self.process)

    def stop(self, timeout: float = 30) -> int:
        """Close every client, SIGTERM the daemon, return its exit code."""
        for client in self.clients:
            client.channel.close()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)


def start_secure_daemon(
    db_url: str,
    workdir: Path,
    *extra: str,
    ca: Path | None,
    probe: Callable[[SecureDaemon], Client],
    listen: str = "127.0.0.1:0",
    secret: str = TEST_SECRET,
) -> SecureDaemon:
    """Run `checkd serve` with `extra` options; wait until `probe`'s client sees SERVING."""
    process, port, log_path = launch(
        db_url, workdir, *extra, "--no-sample", listen=listen, env={"CHECKD_SECRET": secret}
    )
    daemon = SecureDaemon(process, port, log_path, ca)
    wait_until_serving(probe(daemon).health)  # NOT_SERVING while the index loads, then SERVING
    return daemon
