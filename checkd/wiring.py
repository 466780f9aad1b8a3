"""The one composition root: typed Config -> a built Daemon (nothing happens at import)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from importlib import resources

import structlog

from checkd.config import Config, is_loopback
from checkd.decide.snapshots import Snapshots
from checkd.evidence.checkpoints import Checkpointer, SigningKey, chain_algorithm, load_signing_key
from checkd.evidence.ledger import Ledger
from checkd.loop.checks import Checker
from checkd.loop.interchange import read_rows
from checkd.loop.registry import Registry
from checkd.loop.statistics import Statistics
from checkd.ops.http import OpsServer, ops_tls, readiness_probe
from checkd.ops.metrics import LiveFigures, Metrics
from checkd.rules.catalogue import load_catalogue
from checkd.server.grpc_server import Daemon
from checkd.server.interceptors import ObservingInterceptor
from checkd.server.servicers import CheckService, RegistryService
from checkd.store import CheckpointRepository, Database, EntryRepository, LedgerRepository
from checkd.store.stats import StatsRepository
from checkd.subjects.keys import SubjectKeyer, load_secret
from checkd.typing import Clock, utc_now

log = structlog.get_logger(__name__)

KEY_FINGERPRINT = "personal_data_key_fingerprint"


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


def build(config: Config, clock: Clock = utc_now) -> Daemon:
    """Build every part of the daemon from its configuration; Daemon.load() brings the first snapshot.

    Only the catalogue is read here (it is small, and a broken one must stop the start before the
    port is bound); the index, which may take minutes on a big store, loads after binding.
    """
    database = Database(config.db_url)
    keyer = open_keyer(config, database)
    entries = EntryRepository(database)
    records = LedgerRepository(database)
    metrics = Metrics()  # one registry per daemon
    algorithm = chain_algorithm(database, records, config.ledger_algorithm)
    signing_key = None if config.checkpoint_key is None else load_signing_key(config.checkpoint_key)
    ledger = Ledger(records, clock, on_commit=metrics.ledger_committed, algorithm=algorithm)
    ledger.start()
    snapshots = Snapshots(config.rules_dir, entries, clock, catalogue=load_catalogue(config.rules_dir))
    registry = Registry(entries, snapshots, ledger, keyer, clock)
    max_age = None if config.max_data_age is None else dt.timedelta(seconds=config.max_data_age)
    checker = Checker(snapshots, ledger, records, keyer, clock, metrics=metrics, max_data_age=max_age)
    stats_store = StatsRepository(database)
    stats_store.ensure_indexes()  # an older store gets the statistics indexes
    statistics = Statistics(stats_store, clock, config.overdue_days)
    daemon = Daemon(
        database=database,
        ledger=ledger,
        snapshots=snapshots,
        check_service=CheckService(checker, config.max_batch),
        registry_service=RegistryService(registry, statistics),
        listen=config.listen,
        workers=config.workers,
        max_concurrent_rpcs=config.max_concurrent_rpcs,
        poll_seconds=config.poll_seconds,
    )
    if config.sample_wanted():
        daemon.after_load.append(lambda: _seed_sample(registry, entries))
    _secure(daemon, config, records, keyer, checker, metrics)
    if signing_key is not None:
        _checkpoint(daemon, config, records, signing_key, clock)
    _observe(daemon, config, metrics, statistics, stats_store, clock)
    return daemon


def _seed_sample(registry: Registry, entries: EntryRepository) -> None:
    """Seed an empty store with the bundled sample lists (embedded default store or --sample only)."""
    if entries.count() != 0:
        return
    with resources.as_file(resources.files("checkd.data") / "sample_entries.jsonl") as sample:
        loaded, _ = registry.upsert(read_rows([sample]), caller="checkd:sample")
    log.info("sample_loaded", entries=len(loaded.stored))


def _observe(daemon: Daemon, config: Config, metrics: Metrics, statistics: Statistics,
             stats_store: StatsRepository, clock: Callable[[], dt.datetime]) -> None:
    """Metrics and request-id interceptor (outermost, so it sees every rejection) and the ops listener."""
    daemon.interceptors.insert(0, ObservingInterceptor(metrics))
    snapshots, ledger = daemon.snapshots, daemon.ledger

    def data_age() -> float | None:
        age = snapshots.data_age(clock())
        return None if age is None else age.total_seconds()

    def live() -> LiveFigures | None:
        if not snapshots.loaded:
            return None
        state = snapshots.current
        return LiveFigures(state.index.size, state.index.version, data_age() or 0.0,
                           state.catalogue.version, ledger.depth())

    metrics.watch(live, statistics.follow_up)
    # One readiness source: gRPC health follows it, /readyz shows its latest finding.
    daemon.readiness = readiness_probe(lambda: snapshots.loaded, daemon.database.writable, data_age,
                                       config.max_data_age)
    if config.ops_listen is not None:
        daemon.ops = OpsServer(config.ops_listen, metrics, daemon.current_readiness,
                               tls=ops_tls(config.tls_cert, config.tls_key, config.tls_client_ca))


def _checkpoint(daemon: Daemon, config: Config, records: LedgerRepository, key: SigningKey,
                clock: Callable[[], dt.datetime]) -> None:
    """Signed checkpoints of the chain, in the background and once more after the last commit at stop."""
    checkpointer = Checkpointer(records, CheckpointRepository(daemon.database), key, clock,
                                daemon.ledger.algorithm, seconds=config.checkpoint_seconds,
                                records_every=config.checkpoint_records)
    daemon.on_stop.append(checkpointer.close)
    checkpointer.start()


def _secure(daemon: Daemon, config: Config, records: LedgerRepository, keyer: SubjectKeyer,
            checker: Checker, metrics: Metrics) -> None:
    """TLS credentials and, with a policy file, the authentication/authorization interceptor."""
    from checkd.server import auth, policy, tls

    if config.tls_cert is not None and config.tls_key is not None:
        daemon.credentials = tls.server_credentials(config.tls_cert, config.tls_key, config.tls_client_ca)
    elif not is_loopback(config.listen):
        log.warning("plain_text_on_network", listen=config.listen,
                    detail="--insecure: calls, tokens and answers cross the network unencrypted")
    if config.policy_file is None:
        return
    catalogue = daemon.snapshots.first_catalogue
    access = policy.PolicyFile(config.policy_file, catalogue.departments, catalogue.scenes)
    probes = auth.PersonProbes(keyer, on_refused=metrics.person_probe_refused)
    checker.on_decided.append(probes.decided)
    metrics.watch_person_probes(probes.distinct)
    daemon.interceptors.append(auth.AuthInterceptor(access, auth.owner_lookup(records), probes=probes))

    def reload_policy() -> None:
        try:
            access.reload()
            log.info("policy_reloaded", policy=str(config.policy_file))
        except policy.PolicyError as exc:
            log.error("policy_reload_failed", problems=exc.problems)

    daemon.on_reload.append(reload_policy)
    log.info("access_policy", policy=str(config.policy_file),
             departments=len(access.current.departments), mutual_tls=config.tls_client_ca is not None)
