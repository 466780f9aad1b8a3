"""The settings model: one default per setting; flags > CHECKD_* > --config FILE > defaults."""

from __future__ import annotations

import ipaddress
import os
import ssl
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import Field, ValidationError, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_LISTEN = "127.0.0.1:50051"
_PACKAGE = Path(__file__).resolve().parent
# A source checkout (the editable install of the README): the package sits beside pyproject.toml.
_IN_CHECKOUT = (_PACKAGE.parent / "pyproject.toml").is_file() and (_PACKAGE.parent / "rules").is_dir()


def data_dir() -> Path:
    """Where the embedded store and the secret live.

    $CHECKD_DATA_DIR, else `var` (relative to the working directory) in a source checkout, else
    the user's data directory (platformdirs: ~/.local/share/checkd on Linux).
    """
    chosen = os.environ.get("CHECKD_DATA_DIR")
    if chosen:
        return Path(chosen)
    if _IN_CHECKOUT:
        return Path("var")
    import platformdirs

    return Path(platformdirs.user_data_dir("checkd", appauthor=False))


def bundled_rules() -> Path:
    """The default rules: the checkout's rules/, or the copy the wheel carries (checkd/bundled_rules)."""
    checkout = _PACKAGE.parent / "rules"
    return checkout if _IN_CHECKOUT else _PACKAGE / "bundled_rules"


DEFAULT_DB = f"sqlite:///{data_dir() / 'checkd.db'}"
CONFIG_FILE: ContextVar[Path | None] = ContextVar("CONFIG_FILE", default=None)


def option(default: Any, help: str, *, flag: bool = True, secret: bool = False) -> Any:
    """A setting: its one default and its help, from which the command line, `--help` and the file are made.

    `flag=False`: environment and file only (a secret never goes on a command line, where `ps` shows it).
    """
    return Field(default=default, description=help, json_schema_extra={"flag": flag, "secret": secret})


class _Settings(BaseSettings):
    """Read from flags (given to the constructor), then CHECKD_* variables, then `--config FILE`."""

    # An empty variable (CHECKD_CHECKPOINT_KEY=) counts as unset, as it did before the model.
    model_config = SettingsConfigDict(
        env_prefix="CHECKD_", frozen=True, extra="forbid", env_ignore_empty=True
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        config_file = CONFIG_FILE.get()
        sources = [init_settings, env_settings]
        if config_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config_file))
        return tuple(sources)

    @classmethod
    def load(cls, flags: dict[str, Any], config_file: Path | None = None) -> Self:
        """The settings from the flags given, the environment and the file; ValueError naming each bad one."""
        if config_file is not None and not config_file.is_file():
            raise ValueError(f"--config: {config_file} is not a file")
        token = CONFIG_FILE.set(config_file)
        try:
            return cls(**flags)
        except ValidationError as exc:
            raise ValueError(_problems(exc, config_file)) from None
        except (OSError, ValueError) as exc:  # an unreadable or malformed TOML file
            raise ValueError(f"--config: {config_file}: {exc}") from None
        finally:
            CONFIG_FILE.reset(token)

    def shown(self) -> dict[str, Any]:
        """The effective settings as they may be logged: secrets masked, the database password hidden."""
        shown: dict[str, Any] = {}
        for name, info in type(self).model_fields.items():
            value = getattr(self, name)
            extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
            if extra.get("secret") and value is not None:
                value = "***"
            elif name == "db":
                value = _hide_password(value)
            shown[name] = str(value) if isinstance(value, Path) else value
        return shown


class StoreSettings(_Settings):
    """The settings of every command that opens a store."""

    # One file serves every command: the keys of serve are left to serve, which refuses unknown ones.
    model_config = SettingsConfigDict(extra="ignore")

    db: str = option(DEFAULT_DB, "SQLAlchemy URL (sqlite:///... or postgresql+psycopg://...)")
    rules: Path = option(bundled_rules(), "rules directory (catalogue, lists, measures)")
    secret_file: Path = option(data_dir() / "checkd.secret", "personal-data HMAC secret file")
    secret: str | None = option(
        None, "personal-data HMAC secret; wins over secret_file", flag=False, secret=True
    )
    index_file: Path | None = option(
        None, "index snapshot file (default: beside a SQLite store, else in the data directory)"
    )

    @property
    def db_url(self) -> str:
        """The store's URL."""
        return self.db

    @property
    def rules_dir(self) -> Path:
        """The rules directory."""
        return self.rules


class Config(StoreSettings):
    """Everything the wiring needs to build a daemon (`checkd serve`)."""

    model_config = SettingsConfigDict(extra="forbid")

    listen: str = option(DEFAULT_LISTEN, "HOST:PORT (port 0: any free port)")
    # Seed an empty store with the bundled sample lists: True (--sample), False (--no-sample), or
    # None: only the embedded default store (README's first command); a real store never gets them.
    sample: bool | None = option(
        None, f"seed an empty store with the bundled sample lists (unset: only the embedded {DEFAULT_DB})"
    )
    # checkd.limits.MAX_BATCH (config sits beside limits, so it cannot import it)
    max_batch: int = option(1000, "most events in one BatchCheck")
    workers: int = option(16, "gRPC worker threads")
    max_concurrent_rpcs: int = option(
        256, "beyond this many calls in progress, new ones get RESOURCE_EXHAUSTED"
    )
    grace: float = option(10.0, "seconds for in-flight calls on stop")
    poll: float = option(5.0, "seconds between data-version polls (data changed by another process)")
    port_file: Path | None = option(None, "write the bound port here once serving")
    log_format: Literal["console", "json"] = option("console", "log line format")
    ops_listen: str | None = option(
        None, "HOST:PORT of the HTTP ops listener (/healthz, /readyz, /metrics); unset: off"
    )
    ops_port_file: Path | None = option(None, "write the ops listener's bound port here")
    http_listen: str | None = option(
        None, "HOST:PORT of the HTTP/JSON API (same TLS, token and certificate rules as gRPC); unset: off"
    )
    http_port_file: Path | None = option(None, "write the HTTP listener's bound port here")
    max_data_age: float | None = option(
        None, "seconds: older data answers REVIEW and fails /readyz (unset: off)"
    )
    overdue_days: int = option(30, "days after which a penalty check without feedback is overdue")
    tls_cert: Path | None = option(None, "server certificate chain (PEM): serve TLS")
    tls_key: Path | None = option(None, "private key of --tls-cert (PEM)")
    tls_client_ca: Path | None = option(None, "CA of department client certificates: require mutual TLS")
    policy: Path | None = option(
        None, "access policy YAML: authenticate and authorize every call (re-read on change)"
    )
    insecure: bool = option(False, "allow plain text on a non-loopback --listen address")
    ledger_algorithm: Literal["sha256", "sm3"] | None = option(
        None, "chain hash of a new store (unset: sha256); an existing store keeps its own"
    )
    checkpoint_key: Path | None = option(
        None, "private key file (`checkd ledger key new`) to sign checkpoints with; keep it off the store"
    )
    checkpoint_seconds: float = option(60.0, "sign a checkpoint at least this often while records come in")
    checkpoint_records: int = option(10_000, "sign a checkpoint after this many records at the latest")
    processes: int = option(
        1, "serving processes on the one port (SO_REUSEPORT), supervised: restarted if they die"
    )
    version_wait: float = option(
        1.0, "seconds a call that requires a data version not held yet waits for it (then DATA_STALE)"
    )
    # Share the port with other processes: set by the supervisor on the workers of --processes.
    reuse_port: bool = option(False, "share the port with other serving processes", flag=False)

    @property
    def load_sample(self) -> bool | None:
        """--sample / --no-sample, or None for the rule of `sample_wanted`."""
        return self.sample

    @property
    def grace_seconds(self) -> float:
        """Seconds in-flight calls get on stop."""
        return self.grace

    @property
    def poll_seconds(self) -> float:
        """Seconds between data-version polls."""
        return self.poll

    @property
    def policy_file(self) -> Path | None:
        """The access policy file."""
        return self.policy

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        problems = []
        if self.processes < 1:
            problems.append(f"--processes: {self.processes} is not at least 1")
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
        if not (self.rules_dir / "catalogue.yaml").exists():
            problems.append(f"--rules: {self.rules_dir} holds no catalogue.yaml")
        problems.extend(self._security_problems())
        problems.extend(self._evidence_problems())
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def sample_wanted(self) -> bool:
        """Whether an empty store is seeded with the sample lists (the rule of `load_sample`)."""
        return self.db_url == DEFAULT_DB if self.load_sample is None else self.load_sample

    def _security_problems(self) -> list[str]:
        problems = []
        for flag, path in (
            ("--tls-cert", self.tls_cert),
            ("--tls-key", self.tls_key),
            ("--tls-client-ca", self.tls_client_ca),
            ("--policy", self.policy),
        ):
            if path is not None and not path.is_file():
                problems.append(f"{flag}: {path} is not a file")
        if (self.tls_cert is None) != (self.tls_key is None):
            problems.append("--tls-cert/--tls-key: give both or neither")
        if self.tls_client_ca is not None and self.tls_cert is None:
            problems.append("--tls-client-ca: needs --tls-cert and --tls-key")
        if self.tls_client_ca is not None and self.policy is None:
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
    """The default of one Config field."""
    return Config.model_fields[name].default


def _hide_password(url: str) -> str:
    # Parsed here, not by SQLAlchemy: the settings stay free of the store's library (the console
    # and the client use them without it).
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return url
    if password is None:
        return url
    user, _, host = parts.netloc.rpartition("@")
    return urlunsplit(parts._replace(netloc=f"{user.split(':', 1)[0]}:***@{host}"))


def _problems(error: ValidationError, config_file: Path | None) -> str:
    """Each bad setting as `--flag (CHECKD_NAME, name in FILE): reason`."""
    problems = []
    for item in error.errors():
        message = str(item["msg"]).removeprefix("Value error, ")
        if not item["loc"]:
            problems.append(message)
            continue
        name = str(item["loc"][0])
        where = f"--{name.replace('_', '-')} (CHECKD_{name.upper()}"
        where += f", {name} in {config_file})" if config_file is not None else ")"
        if item["type"] == "extra_forbidden":
            where, message = (f"{config_file}" if config_file else "settings"), f"unknown setting {name!r}"
        problems.append(f"{where}: {message}")
    return "; ".join(problems)


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
