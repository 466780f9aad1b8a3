"""An in-memory twin of the store, for contract tests and tests of the pure core.

It implements the same Protocols as the SQL repositories (decide/storage.py, evidence/storage.py,
loop/storage.py) and holds to the same contract (tests/integration/test_store_contract.py) without
a database, the way OPA keeps `storage/inmem` beside its disk store. One `MemoryStore` holds the
state; `MemoryEntries`, `MemoryLedger` and `MemoryStats` are its views, as the repositories are
views of one database.
"""

from __future__ import annotations

from checkd.store.memory.entries import MemoryEntries
from checkd.store.memory.ledger import MemoryLedger
from checkd.store.memory.state import MemoryStore, MemoryTx
from checkd.store.memory.stats import MemoryStats

__all__ = ["MemoryEntries", "MemoryLedger", "MemoryStats", "MemoryStore", "MemoryTx"]
