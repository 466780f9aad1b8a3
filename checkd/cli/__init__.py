"""The `checkd` command: serve, console, db, check, import, registry acts, report, rules, ledger, token."""

from __future__ import annotations

import argparse
import os
import sys

from checkd.cli import check, db, imports, ledger, registry, reports, rules, serve, token
from checkd.cli.options import EXIT_BAD_INPUT, EXIT_FAILED, resolve_settings
from checkd.console import command as console
from checkd.errors import CheckdError
from checkd.ops.build import build_info

# The order of `checkd --help`.
_GROUPS = (serve, console, reports, db, token, check, imports, registry, rules, ledger)


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `checkd` command, and its one error boundary.

    A command handles the failures it can explain; anything checkd reports on purpose that escapes
    it, an operating-system error, or a reader that closed the pipe (`checkd report | head`) ends
    the command with one line on stderr and a non-zero exit instead of a traceback.
    """
    try:
        result = _run(argv)
        sys.stdout.flush()  # a closed pipe shows itself here, inside the boundary
    except BrokenPipeError:
        # Nobody reads stdout any more: point it at /dev/null so the interpreter's final flush is quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130
    except CheckdError as exc:
        print(f"checkd: {exc.message}", file=sys.stderr)
        return EXIT_FAILED
    except (ValueError, OSError) as exc:
        print(f"checkd: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return result


def _run(argv: list[str] | None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return EXIT_BAD_INPUT
    try:
        resolve_settings(args)
    except ValueError as exc:
        print(f"checkd: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.run is not serve.run_serve:  # commands print their results on stdout; their log goes to stderr
        from checkd.ops import log

        log.configure("console")
    result: int = args.run(args)
    return result


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="checkd", description=__doc__)
    parser.add_argument("--version", action="version", version=f"checkd {build_info()}")
    commands = parser.add_subparsers(title="commands")
    for group in _GROUPS:
        group.register(commands)
    return parser
