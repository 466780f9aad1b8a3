"""What several `checkd` commands share: exit codes, settings flags made from the model, client options."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin

from checkd.config import StoreSettings

EXIT_OK, EXIT_BAD_INPUT, EXIT_FAILED = 0, 1, 2


def settings_options(
    parser: argparse.ArgumentParser, model: type[StoreSettings], only: tuple[str, ...] | None = None
) -> None:
    """`--config` and one flag per setting of `model` (all, or `only` these), made from the model.

    A flag is the setting's name with dashes; its help shows the setting's default and variable.
    Flags left out are absent from the parsed arguments, so the environment and the file can fill
    them (`resolve_settings`).
    """
    parser.set_defaults(settings_model=model)
    parser.add_argument(
        "--config",
        type=Path,
        default=argparse.SUPPRESS,
        help="TOML settings file (CHECKD_CONFIG); flags win over CHECKD_* variables, which win over it",
    )
    for name, info in model.model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        if not extra.get("flag") or (only is not None and name not in only):
            continue
        kind = _value_type(info.annotation)
        shown = "unset" if info.default is None else info.default
        help_text = f"{info.description} [CHECKD_{name.upper()}; default: {shown}]".replace("%", "%%")
        flag = f"--{name.replace('_', '-')}"
        common: dict[str, Any] = {"dest": name, "default": argparse.SUPPRESS, "help": help_text}
        if kind is bool:
            none_allowed = type(None) in get_args(info.annotation)
            action = argparse.BooleanOptionalAction if none_allowed else "store_true"
            parser.add_argument(flag, action=action, **common)
        elif get_origin(kind) is Literal:
            parser.add_argument(flag, choices=get_args(kind), **common)
        else:
            parser.add_argument(flag, type=kind, **common)


def store_options(parser: argparse.ArgumentParser) -> None:
    """--config, --db, --rules and --secret-file (the settings of every command that opens a store)."""
    settings_options(parser, StoreSettings)


def db_option(parser: argparse.ArgumentParser) -> None:
    """--config and --db only (commands that read a store and nothing else)."""
    settings_options(parser, StoreSettings, only=("db",))


def resolve_settings(args: argparse.Namespace) -> None:
    """Fill the parsed arguments with the effective settings (flags > CHECKD_* > file > defaults).

    `args.settings` is the settings object; each setting is also set on `args` by its name, so a
    command reads `args.db` whichever source gave it. ValueError names each bad setting.
    """
    model: type[StoreSettings] | None = getattr(args, "settings_model", None)
    if model is None:
        return
    given = {name: getattr(args, name) for name in model.model_fields if hasattr(args, name)}
    config_file = getattr(args, "config", None) or os.environ.get("CHECKD_CONFIG") or None
    settings = model.load(given, None if config_file is None else Path(config_file))
    args.settings = settings
    for name in model.model_fields:
        setattr(args, name, getattr(settings, name))


def _value_type(annotation: Any) -> Any:
    """The type a flag parses: the annotation without its `| None`."""
    kinds = [kind for kind in get_args(annotation) if kind is not type(None)]
    return kinds[0] if get_origin(annotation) in (Union, UnionType) and len(kinds) == 1 else annotation


def client_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ca", type=Path, help="CA certificate: connect with TLS")
    parser.add_argument("--cert", type=Path, help="client certificate (mutual TLS)")
    parser.add_argument("--key", type=Path, help="client private key (mutual TLS)")
    parser.add_argument("--token-file", type=Path, help="file holding a bearer token")


def call_options(args: argparse.Namespace) -> dict[str, Any]:
    """Channel and per-call metadata for a client command."""
    from checkd.server.tls import client_channel

    metadata = []
    if args.token_file is not None:
        metadata.append(("authorization", f"Bearer {args.token_file.read_text().strip()}"))
    return {"channel": client_channel(args.target, args.ca, args.cert, args.key), "metadata": tuple(metadata)}


def print_rpc_error(exc: Any) -> int:
    from grpc_status import rpc_status

    code = exc.code()
    print(f"checkd: {code.name}: {exc.details()}", file=sys.stderr)
    status = rpc_status.from_call(exc)
    if status is not None:
        from google.rpc import error_details_pb2

        for detail in status.details:
            bad = error_details_pb2.BadRequest()
            if detail.Unpack(bad):
                for violation in bad.field_violations:
                    print(f"  {violation.field}: {violation.description}", file=sys.stderr)
    return EXIT_BAD_INPUT if code.name == "INVALID_ARGUMENT" else EXIT_FAILED


def print_rejected(error: Any, prefix: str) -> None:
    """Every bad row of a refused import as `file:line: reason`, then the verdict."""
    for problem in error.problems:
        print(problem, file=sys.stderr)
    print(f"{prefix}: {error.message}", file=sys.stderr)
