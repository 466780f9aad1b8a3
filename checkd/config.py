"""Typed daemon configuration; every bad value is reported with the option that carries it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

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
    load_sample: bool = True  # seed an empty store with the bundled sample lists
    max_batch: int = 1000
    workers: int = 16
    max_concurrent_rpcs: int = 256
    grace_seconds: float = 10.0
    poll_seconds: float = 5.0  # how often to look for data changed by another process
    port_file: Path | None = None  # where to write the bound port (useful with port 0)
    log_format: str = "console"  # console | json

    def __post_init__(self) -> None:
        problems = []
        if ":" not in self.listen:
            problems.append(f"--listen: {self.listen!r} is not HOST:PORT")
        if self.max_batch < 1:
            problems.append("--max-batch: must be at least 1")
        if self.workers < 1:
            problems.append("--workers: must be at least 1")
        if self.log_format not in ("console", "json"):
            problems.append("--log-format: one of console, json")
        if not (self.rules_dir / "catalogue.yaml").exists():
            problems.append(f"--rules: {self.rules_dir} holds no catalogue.yaml")
        if problems:
            raise ValueError("; ".join(problems))


def secret_from_env() -> str | None:
    """The personal-data secret from the environment, if set."""
    return os.environ.get("CHECKD_SECRET") or None
