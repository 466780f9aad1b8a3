"""One verification of a store's evidence: the chain, its checkpoints, receipts and derived rows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from checkd.evidence import checkpoints as cp
from checkd.evidence.derived import row_checkers
from checkd.evidence.ledger import VerifyReport, verify
from checkd.store import CheckpointRepository, Database, EntryRepository, LedgerRepository


@dataclass(frozen=True, slots=True)
class StoreVerification:
    """What `checkd ledger verify` and the VerifyLedger RPC both report."""

    report: VerifyReport
    algorithm: str
    checkpoints_stored: int
    signature_problems: tuple[str, ...]

    def problems(self) -> list[str]:
        """The chain break first, then derived rows, receipts, anchors and signatures that disagree."""
        return [*self.report.all_problems(), *self.signature_problems]


def verify_store(
    database: Database,
    trusted: dict[str, cp.PublicKey] | None = None,
    anchors: Iterable[tuple[int, str]] = (),
    receipts: Iterable[tuple[int, str]] = (),
) -> StoreVerification:
    """Walk the whole chain of `database`; checkpoints are checked only against `trusted` keys."""
    records = LedgerRepository(database)
    algorithm = cp.stored_chain_algorithm(database)
    stored = CheckpointRepository(database).all()
    signed, signature_problems = (
        ([], []) if trusted is None else cp.check_signatures(stored, trusted, algorithm)
    )
    report = verify(
        records.iter_records(),
        anchors,
        algorithm=algorithm,
        checkpoints=signed,
        receipts=receipts,
        derived=row_checkers(records, EntryRepository(database)),
    )
    return StoreVerification(report, algorithm, len(stored), tuple(signature_problems))


def parse_seq_hash(value: str) -> tuple[int, str] | None:
    """`SEQ:HASH` (a receipt or an anchor) as a pair; None when it is not one."""
    seq, _, digest = value.strip().partition(":")
    if not seq.isdigit() or len(digest) != 64:
        return None
    return int(seq), digest.lower()
