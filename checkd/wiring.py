"""The one composition root: typed Config -> a built Daemon (nothing happens at import)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from importlib import resources

import structlog

from checkd.checking import Checker
from checkd.config import Config
from checkd.entries import read_rows
from checkd.ledger import Ledger
from checkd.pii import SubjectKeyer, load_secret
from checkd.registry import Registry
from checkd.server import Daemon
from checkd.service import CheckService, RegistryService
from checkd.snapshots import Snapshots
from checkd.store import Database, EntryRepository, LedgerRepository

log = structlog.get_logger(__name__)

KEY_FINGERPRINT = "personal_data_key_fingerprint"


def utc_now() -> dt.datetime:
    """The wall clock, in UTC."""
    return dt.datetime.now(dt.UTC)


def open_keyer(config: Config, database: Database) -> SubjectKeyer:
    """The personal-data keyer, refusing a secret other than the one the store was written with."""
    keyer = SubjectKeyer(load_secret(config.secret_file, config.secret))
    recorded = database.set_meta_if_absent(KEY_FINGERPRINT, keyer.fingerprint())
    if recorded != keyer.fingerprint():
        raise ValueError(
            "the personal-data secret differs from the one this store was written with "
            f"(check CHECKD_SECRET or {config.secret_file}); persons would not be found"
        )
    return keyer


def build(config: Config, clock: Callable[[], dt.datetime] = utc_now) -> Daemon:
    """Build every part of the daemon from its configuration and load the first snapshot."""
    database = Database(config.db_url)
    keyer = open_keyer(config, database)
    entries = EntryRepository(database)
    records = LedgerRepository(database)
    ledger = Ledger(records, clock)
    ledger.start()
    snapshots = Snapshots(config.rules_dir, entries, clock)
    snapshots.reload()
    registry = Registry(entries, snapshots, ledger, keyer, clock)
    if config.load_sample and entries.count() == 0:
        with resources.as_file(resources.files("checkd.data") / "sample_entries.jsonl") as sample:
            count, _ = registry.upsert(read_rows([sample]), caller="checkd:sample")
        log.info("sample_loaded", entries=count)
    checker = Checker(snapshots, ledger, records, keyer, clock)
    return Daemon(
        database=database,
        ledger=ledger,
        snapshots=snapshots,
        check_service=CheckService(checker, config.max_batch),
        registry_service=RegistryService(registry),
        listen=config.listen,
        workers=config.workers,
        max_concurrent_rpcs=config.max_concurrent_rpcs,
        poll_seconds=config.poll_seconds,
    )
