"""`checkd rules check|show|schema`: catalogue tooling without a daemon."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from checkd.cli.options import EXIT_BAD_INPUT, EXIT_OK
from checkd.config import bundled_rules


def register(commands: Any) -> None:
    """The rules commands."""
    rules = commands.add_parser("rules", help="catalogue tooling")
    rules_commands = rules.add_subparsers(title="rules commands")
    rules_check = rules_commands.add_parser("check", help="validate a rules directory")
    rules_check.add_argument("dir", nargs="?", type=Path, default=bundled_rules())
    rules_check.set_defaults(run=_rules_check)
    rules_show = rules_commands.add_parser("show", help="show one measure as GetCatalogue shows it")
    rules_show.add_argument("measure_id")
    rules_show.add_argument("--rules", type=Path, default=bundled_rules())
    rules_show.set_defaults(run=_rules_show)
    rules_schema = rules_commands.add_parser("schema", help="print the JSON Schema of the rules files")
    rules_schema.set_defaults(run=_rules_schema)


def _rules_check(args: argparse.Namespace) -> int:
    from checkd.errors import CatalogueError
    from checkd.rules.catalogue import load_catalogue

    try:
        catalogue = load_catalogue(args.dir)
    except CatalogueError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_BAD_INPUT
    departments = {d for m in catalogue.measures for d in m.departments}
    scenes = {s for m in catalogue.measures for s in m.scenes}
    print(
        f"ok: {len(catalogue.measures)} measures, {len(departments)} departments, {len(scenes)} scenes, "
        f"{len(catalogue.list_types)} lists (version {catalogue.version})"
    )
    return EXIT_OK


def _rules_show(args: argparse.Namespace) -> int:
    from checkd.errors import CatalogueError, NotFound
    from checkd.rules.catalogue import load_catalogue
    from checkd.server.catalogue_view import show_measure

    try:
        print(show_measure(load_catalogue(args.rules), args.measure_id))
    except CatalogueError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return EXIT_BAD_INPUT
    except NotFound as exc:
        print(f"checkd rules show: {exc.message}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return EXIT_OK


def _rules_schema(args: argparse.Namespace) -> int:
    import json

    from checkd.rules.schema import json_schema

    print(json.dumps(json_schema(), ensure_ascii=False, indent=2))
    return EXIT_OK
