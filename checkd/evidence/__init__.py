"""Evidence: the hash-chained ledger, its checkpoints and the checks of stored rows against it."""
