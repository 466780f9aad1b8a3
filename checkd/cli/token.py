"""`checkd token new`: make an API token and its policy line."""

from __future__ import annotations

import argparse
from typing import Any

from checkd.cli.options import EXIT_OK


def register(commands: Any) -> None:
    """The token commands."""
    token = commands.add_parser("token", help="API token tooling")
    token_commands = token.add_subparsers(title="token commands")
    token_new = token_commands.add_parser("new", help="make a token; print it and its policy entry")
    token_new.add_argument("--id", required=True, help="the token's name in the policy and audit")
    token_new.set_defaults(run=_token_new)


def _token_new(args: argparse.Namespace) -> int:
    import secrets

    from checkd.server.policy import hash_token

    token = secrets.token_urlsafe(32)
    print(f"token (give it to the department system; it is not stored): {token}")
    print(f'policy entry:  - {{id: {args.id}, sha256: "{hash_token(token)}"}}')
    return EXIT_OK
