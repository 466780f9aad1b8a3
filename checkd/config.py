"""Typed daemon configuration; every bad value is reported with the option that carries it."""

from __future__ import annotations

import ipaddress
import os
import ssl
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

DEFAULT_DB = "sqlite:///var/checkd.db"
DEFAULT_LISTEN = "127.0.0.1:50051"


@dataclass(frozen=True, slots=True)
class Config:
    """Everything the wiring needs to build a daemon."""

    listen: str = DEFAULT_LISTEN
    db_url: str = DEFAULT_DB
    rules_dir: Path = Path("rules")
    secret_file: Path = Path("var/checkd.secret")
    secret: str | None = None  # from CHECKD_SECRET; wins over secret_file
    # Seed an empty store with the bundled sample lists: True (--sample), False (--no-sample), or
    # None: only the embedded default store (README's first command); a real store never gets them.
    load_sample: bool | None = None
    max_batch: int = 1000  # checkd.limits.MAX_BATCH (config sits beside limits, so cannot import it)
    workers: int = 16
    max_concurrent_rpcs: int = 256
    grace_seconds: float = 10.0
    poll_seconds: float = 5.0  # how often to look for data changed by another process
    port_file: Path | None = None  # where to write the bound port (useful with port 0)
    log_format: str = "console"  # console | json
    ops_listen: str | None = None  # HOST:PORT of the HTTP ops listener; None: off
    ops_port_file: Path | None = None  # where to write the ops listener's bound port
    http_listen: str | None = None  # HOST:PORT of the HTTP/JSON API; None: off
    http_port_file: Path | None = None  # where to write the HTTP listener's bound port
    max_data_age: float | None = None  # seconds; older data answers REVIEW and fails /readyz. None: off
    overdue_days: int = 30  # a penalty check without feedback after this many days is overdue
    tls_cert: Path | None = None  # server certificate chain (PEM)
    tls_key: Path | None = None  # its private key (PEM)
    tls_client_ca: Path | None = None  # CA of department client certificates: mutual TLS
    policy_file: Path | None = None  # access policy; none: no authentication (loopback use)
    insecure: bool = False  # allow plain text on a non-loopback address
    ledger_algorithm: str | None = None  # chain hash of a new store (sha256 | sm3); None: the store's own
    checkpoint_key: Path | None = None  # private key signing checkpoints; None: no checkpoints
    checkpoint_seconds: float = 60.0  # sign at least this often while records come in
    checkpoint_records: int = 10_000  # and at the latest after this many records

    def __post_init__(self) -> None:
        problems = []
        if ":" not in self.listen:
            problems.append(f"--listen: {self.listen!r} is not HOST:PORT")
        if self.max_batch < 1:
            problems.append("--max-batch: must be at least 1")
        if self.workers < 1:
            problems.append("--workers: must be at least 1")
        if self.ops_listen is not None and split_host_port(self.ops_listen) is None:
            problems.append(f"--ops-listen: {self.ops_listen!r} is not HOST:PORT")
        if self.http_listen is not None and split_host_port(self.http_listen) is None:
            problems.append(f"--http-listen: {self.http_listen!r} is not HOST:PORT")
        if self.max_data_age is not None and self.max_data_age <= 0:
            problems.append("--max-data-age: must be a positive number of seconds")
        if self.overdue_days < 0:
            problems.append("--overdue-days: must not be negative")
        if self.log_format not in ("console", "json"):
            problems.append("--log-format: one of console, json")
        if not (self.rules_dir / "catalogue.yaml").exists():
            problems.append(f"--rules: {self.rules_dir} holds no catalogue.yaml")
        problems.extend(self._security_problems())
        problems.extend(self._evidence_problems())
        if problems:
            raise ValueError("; ".join(problems))

    def sample_wanted(self) -> bool:
        """Whether an empty store is seeded with the sample lists (the rule of `load_sample`)."""
        return self.db_url == DEFAULT_DB if self.load_sample is None else self.load_sample

    def _security_problems(self) -> list[str]:
        problems = []
        for flag, path in (
            ("--tls-cert", self.tls_cert),
            ("--tls-key", self.tls_key),
            ("--tls-client-ca", self.tls_client_ca),
            ("--policy", self.policy_file),
        ):
            if path is not None and not path.is_file():
                problems.append(f"{flag}: {path} is not a file")
        if (self.tls_cert is None) != (self.tls_key is None):
            problems.append("--tls-cert/--tls-key: give both or neither")
        if self.tls_client_ca is not None and self.tls_cert is None:
            problems.append("--tls-client-ca: needs --tls-cert and --tls-key")
        if self.tls_client_ca is not None and self.policy_file is None:
            problems.append("--tls-client-ca: needs --policy to map certificates to departments")
        plain_on_network = ":" in self.listen and not is_loopback(self.listen)
        if self.tls_cert is None and not self.insecure and plain_on_network:
            problems.append(
                f"--listen: {self.listen} is not a loopback address; plain text there needs "
                "--insecure (or serve TLS with --tls-cert/--tls-key)"
            )
        ops_on_network = self.ops_listen is not None and not is_loopback(self.ops_listen)
        if self.tls_cert is None and not self.insecure and ops_on_network:
            problems.append(
                f"--ops-listen: {self.ops_listen} is not a loopback address; plain text there "
                "needs --insecure (or serve TLS with --tls-cert/--tls-key)"
            )
        http_on_network = self.http_listen is not None and not is_loopback(self.http_listen)
        if self.tls_cert is None and not self.insecure and http_on_network:
            problems.append(
                f"--http-listen: {self.http_listen} is not a loopback address; plain text there "
                "needs --insecure (or serve TLS with --tls-cert/--tls-key)"
            )
        if not problems and self.tls_cert is not None and self.tls_key is not None:
            problems.extend(_key_pair_problems(self.tls_cert, self.tls_key))
        return problems

    def _evidence_problems(self) -> list[str]:
        problems = []
        if self.checkpoint_key is not None and not self.checkpoint_key.is_file():
            problems.append(f"--checkpoint-key: {self.checkpoint_key} is not a file")
        if self.checkpoint_seconds <= 0:
            problems.append("--checkpoint-seconds: must be a positive number of seconds")
        if self.checkpoint_records < 1:
            problems.append("--checkpoint-records: must be at least 1")
        return problems


def default(name: str) -> Any:
    """The default of one Config field: the command-line options take their defaults from here."""
    return _DEFAULTS[name]


_DEFAULTS = {f.name: f.default for f in fields(Config)}


def _key_pair_problems(cert: Path, key: Path) -> list[str]:
    """A certificate and key that do not belong together, named both, before anything binds."""
    problem = check_key_pair(cert, key)
    return [] if problem is None else [f"--tls-cert/--tls-key: {problem}"]


def split_host_port(listen: str) -> tuple[str, int] | None:
    """HOST:PORT as (host without IPv6 brackets, port); None when it is not HOST:PORT.

    The one parser of listen addresses: the options, the loopback rule and the ops listener use it.
    """
    host, colon, port = listen.rpartition(":")
    if not colon or not port.isdigit():
        return None
    return (host[1:-1] if host.startswith("[") and host.endswith("]") else host), int(port)


def is_loopback(listen: str) -> bool:
    """True when HOST:PORT binds only the loopback interface (plain text is tolerated there)."""
    host = listen.rsplit(":", 1)[0]
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name or a wildcard: reachable from elsewhere


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


def secret_from_env() -> str | None:
    """The personal-data secret from the environment, if set."""
    return os.environ.get("CHECKD_SECRET") or None
