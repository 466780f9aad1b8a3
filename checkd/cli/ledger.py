"""`checkd ledger verify|key new`: evidence ledger tooling."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from checkd.cli.options import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, db_option


def register(commands: Any) -> None:
    """The ledger commands."""
    ledger = commands.add_parser("ledger", help="evidence ledger tooling")
    ledger_commands = ledger.add_subparsers(title="ledger commands")
    verify = ledger_commands.add_parser("verify", help="walk the hash chain")
    db_option(verify)
    verify.add_argument(
        "--anchor",
        action="append",
        default=[],
        metavar="SEQ:HASH",
        help="a chain head from a `ledger_anchor` log event (repeatable)",
    )
    verify.add_argument(
        "--checkpoint-pubkeys",
        type=Path,
        metavar="PATH",
        help="trusted checkpoint public keys: a PEM file or a directory of them",
    )
    verify.add_argument(
        "--allow-uncovered",
        action="store_true",
        help="with --checkpoint-pubkeys: records after the last checkpoint do not fail",
    )
    verify.add_argument(
        "--receipt",
        action="append",
        default=[],
        metavar="SEQ:HASH",
        help="a receipt from a check answer to confirm (repeatable)",
    )
    verify.set_defaults(run=_ledger_verify)
    key = ledger_commands.add_parser("key", help="checkpoint signing keys")
    key_commands = key.add_subparsers(title="key commands")
    key_new = key_commands.add_parser("new", help="make a checkpoint key pair; print the public key")
    key_new.add_argument(
        "--out",
        type=Path,
        required=True,
        help="private key file (created mode 0600); the public key goes to OUT.pub",
    )
    key_new.add_argument("--algorithm", choices=("ed25519", "sm2"), default="ed25519")
    key_new.set_defaults(run=_ledger_key_new)


def _seq_hash(values: list[str], flag: str) -> list[tuple[int, str]] | None:
    """SEQ:HASH arguments as pairs; None (after saying which) when one is malformed."""
    from checkd.evidence.verification import parse_seq_hash

    pairs = []
    for value in values:
        pair = parse_seq_hash(value)
        if pair is None:
            print(f"checkd ledger verify: {flag} {value!r} is not SEQ:HASH", file=sys.stderr)
            return None
        pairs.append(pair)
    return pairs


def _ledger_verify(args: argparse.Namespace) -> int:
    from checkd.errors import CheckdError
    from checkd.evidence import checkpoints as cp
    from checkd.evidence.verification import verify_store
    from checkd.store.db import open_existing

    anchors, receipts = _seq_hash(args.anchor, "--anchor"), _seq_hash(args.receipt, "--receipt")
    if anchors is None or receipts is None:
        return EXIT_BAD_INPUT
    try:
        trusted = None if args.checkpoint_pubkeys is None else cp.load_public_keys(args.checkpoint_pubkeys)
    except cp.CheckpointKeyError as exc:
        print(f"checkd ledger verify: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        outcome = verify_store(open_existing(args.db), trusted, anchors, receipts)
    except CheckdError as exc:
        print(f"checkd ledger verify: {exc.message}", file=sys.stderr)
        return EXIT_FAILED
    report, algorithm = outcome.report, outcome.algorithm
    problems = outcome.problems()
    uncovered = ""
    if trusted is not None and report.uncovered:
        uncovered = (
            f"{report.uncovered} records after the last checkpoint at seq {report.last_checkpoint}, "
            "not yet covered"
        )
        if not args.allow_uncovered:
            problems.append(uncovered)
    for note in report.notes:
        print(note)
    if trusted is None:
        print(f"checkpoints: {outcome.checkpoints_stored} stored, not verified (no --checkpoint-pubkeys)")
    else:
        print(
            f"checkpoints: {report.checkpoints} verified of {outcome.checkpoints_stored}, "
            f"last at seq {report.last_checkpoint}"
        )
        if uncovered and args.allow_uncovered:
            print(f"note: {uncovered}")
    if problems:
        for problem in problems:
            print(f"ledger BROKEN: {problem}")
        print(
            f"ledger BROKEN: {len(problems)} problems ({algorithm} chain, verified up to record "
            f"{report.head_seq})"
        )
        return EXIT_BAD_INPUT
    print(
        f"ledger ok: {report.records} records, head {report.head_seq} {report.head_hash} ({algorithm}; "
        "derived rows agree)"
    )
    return EXIT_OK


def _ledger_key_new(args: argparse.Namespace) -> int:
    """Write a new checkpoint key pair; rotation is a new key (new id), the old public key stays trusted."""
    import os

    from checkd.evidence import checkpoints as cp

    public_path = args.out.with_name(args.out.name + ".pub")
    if args.out.exists():
        print(f"checkd ledger key new: {args.out} exists; a new key needs a new file", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        private, public = cp.new_key(args.algorithm)
    except cp.CheckpointKeyError as exc:
        print(f"checkd ledger key new: {exc}", file=sys.stderr)
        return EXIT_FAILED
    args.out.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(private)
    public_path.write_bytes(public)
    key_id = cp.load_signing_key(args.out).key_id
    print(f"# checkpoint key {key_id} ({args.algorithm}); private key: {args.out}; public key: {public_path}")
    print(public.decode(), end="")
    return EXIT_OK
