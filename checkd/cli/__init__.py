"""The `checkd` command: serve, check, import, reload, reinstate, report, rules, ledger, rekey, token."""

from __future__ import annotations

import argparse

from checkd.cli import check, imports, ledger, registry, rekey, reports, rules, serve, token
from checkd.cli.options import EXIT_BAD_INPUT

# The order of `checkd --help`.
_GROUPS = (serve, reports, rekey, token, check, imports, registry, rules, ledger)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `checkd` command."""
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return EXIT_BAD_INPUT
    if args.run is not serve.run_serve:  # commands print their results on stdout; their log goes to stderr
        from checkd.ops import log

        log.configure("console")
    result: int = args.run(args)
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="checkd", description=__doc__)
    commands = parser.add_subparsers(title="commands")
    for group in _GROUPS:
        group.register(commands)
    return parser
