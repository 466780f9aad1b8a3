"""The one composition root: typed Config -> a built Daemon (nothing happens at import)."""

from __future__ import annotations

import datetime as dt
import hashlib
import shutil
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import grpc
import structlog

from checkd.config import Config, StoreSettings, data_dir, is_loopback
from checkd.decide.snapshot_file import Header
from checkd.decide.snapshots import Snapshots, write_current_file
from checkd.evidence.checkpoints import Checkpointer, PublicKey, SigningKey, chain_algorithm, load_signing_key
from checkd.evidence.ledger import Ledger
from checkd.evidence.verification import verify_store
from checkd.loop.checks import Checker
from checkd.loop.interchange import read_rows
from checkd.loop.registry import Registry
from checkd.loop.statistics import Statistics
from checkd.model import CheckCase, Decision
from checkd.ops.http import OpsServer, ops_tls, readiness_probe
from checkd.ops.metrics import LiveFigures, Metrics
from checkd.rules.catalogue import load_catalogue
from checkd.server.auth import GatewayTrust
from checkd.server.grpc_server import Closeable, Daemon
from checkd.server.interceptors import ObservingInterceptor
from checkd.server.servicers import CheckService, RegistryService
from checkd.store import CheckpointRepository, Database, EntryRepository, LedgerRepository
from checkd.store.changes import ChangeListener, DataChange, announce_reload
from checkd.store.stats import StatsRepository
from checkd.subjects.keys import SubjectKeyer, load_secret
from checkd.typing import Clock, utc_now

log = structlog.get_logger(__name__)

KEY_FINGERPRINT = "personal_data_key_fingerprint"
STORE_ID = "store_id"  # names the store in its index snapshot files (a copy of the store keeps it)


def open_keyer(config: StoreSettings, database: Database) -> SubjectKeyer:
    """The personal-data keyer, refusing a secret other than the one the store was written with."""
    keyer = SubjectKeyer(load_secret(config.secret_file, config.secret))
    recorded = database.set_meta_if_absent(KEY_FINGERPRINT, keyer.fingerprint())
    if recorded != keyer.fingerprint():
        raise ValueError(
            "the personal-data secret differs from the one this store was written with "
            f"(check CHECKD_SECRET or {config.secret_file}); persons would not be found"
        )
    return keyer


def store_identity(database: Database) -> str:
    """The store's identity, recorded at first use: a snapshot file of another store is never served."""
    return database.set_meta_if_absent(STORE_ID, uuid.uuid4().hex)


def index_file_path(settings: StoreSettings, database: Database) -> Path | None:
    """Where the index snapshot file lives: the setting, else beside a SQLite file, else in the data dir.

    None for a SQLite store in memory (nothing outlives the process). A PostgreSQL store's file is
    named by a digest of its URL (without the password), so two stores never share one.
    """
    if settings.index_file is not None:
        return settings.index_file
    url = database.engine.url
    if url.get_backend_name() == "sqlite":
        name = url.database or ""
        if not name or name == ":memory:" or name.startswith("file:"):
            return None
        return Path(f"{name}.index")
    digest = hashlib.sha256(url.render_as_string(hide_password=True).encode()).hexdigest()[:16]
    return data_dir() / f"index-{digest}.snapshot"


def write_index_file(settings: StoreSettings, database: Database) -> tuple[Path, Header] | None:
    """Write the store's index snapshot file at its current data version (None: none was written)."""
    path = index_file_path(settings, database)
    if path is None:
        return None
    entries = EntryRepository(database)
    header = write_current_file(entries, path, store_identity(database), entries.data_version())
    return None if header is None else (path, header)


def build(config: Config, clock: Clock = utc_now) -> Daemon:
    """Build every part of the daemon from its configuration, in dependency order, into a finished Daemon.

    Nothing is set on the Daemon afterwards; Daemon.close() releases what was opened here in reverse
    order. Only the catalogue is read here (it is small, and a broken one must stop the start before
    the port is bound); the index, which may take minutes on a big store, loads after binding.
    """
    database = Database(config.db_url)
    opened: list[Closeable] = [database]
    try:
        return _build(config, clock, database, opened)
    except BaseException:
        for resource in reversed(opened):  # a part that failed to build leaves nothing running
            resource.close()
        raise


def _build(config: Config, clock: Clock, database: Database, opened: list[Closeable]) -> Daemon:
    keyer = open_keyer(config, database)
    entries = EntryRepository(database)
    records = LedgerRepository(database)
    metrics = Metrics()  # one registry per daemon
    algorithm = chain_algorithm(database, records, config.ledger_algorithm)
    signing_key = None if config.checkpoint_key is None else load_signing_key(config.checkpoint_key)
    ledger = Ledger(records, clock, on_commit=metrics.ledger_committed, algorithm=algorithm)
    ledger.start()
    opened.append(ledger)
    snapshots = Snapshots(
        config.rules_dir,
        entries,
        clock,
        catalogue=load_catalogue(config.rules_dir),
        index_file=index_file_path(config, database),
        store=store_identity(database),
    )
    trust = _gateway_trust(config, opened)  # None: no HTTP listener
    guard = _access(config, snapshots, records, keyer, metrics, trust)
    origin = uuid.uuid4().hex  # this process, in the changes it announces to the others
    registry = Registry(
        entries,
        snapshots,
        ledger,
        keyer,
        clock,
        also_reload=guard.reload_steps,
        announce_reload=lambda version: announce_reload(database, version, origin),
    )
    max_age = None if config.max_data_age is None else dt.timedelta(seconds=config.max_data_age)
    checker = Checker(
        snapshots,
        ledger,
        records,
        keyer,
        clock,
        metrics=metrics,
        max_data_age=max_age,
        on_decided=guard.on_decided,
    )
    stats_store = StatsRepository(database)
    stats_store.ensure_indexes()  # an older store gets the statistics indexes
    statistics = Statistics(stats_store, clock, config.overdue_days)
    if signing_key is not None:
        # Signed checkpoints of the chain, in the background and once more at close (after the flush).
        checkpointer = Checkpointer(
            records,
            CheckpointRepository(database),
            signing_key,
            clock,
            ledger.algorithm,
            seconds=config.checkpoint_seconds,
            records_every=config.checkpoint_records,
        )
        checkpointer.start()
        opened.append(checkpointer)
    _watch(metrics, snapshots, ledger, statistics, clock)
    follow_changes = _changes(config, database, registry, snapshots, origin)
    if follow_changes is not None:
        opened.append(follow_changes)
    ops = None
    if config.ops_listen is not None:
        ops = OpsServer(
            config.ops_listen,
            metrics.registry,
            tls=ops_tls(config.tls_cert, config.tls_key, config.tls_client_ca),
        )
        opened.append(ops)
    gateway = None
    if config.http_listen is not None and trust is not None:
        from checkd.gateway.server import HttpGateway, gateway_tls

        gateway = HttpGateway(
            config.http_listen, trust, tls=gateway_tls(config.tls_cert, config.tls_key, config.tls_client_ca)
        )
        opened.append(gateway)
    return Daemon(
        database=database,
        ledger=ledger,
        snapshots=snapshots,
        check_service=CheckService(
            checker, config.max_batch, lambda version: snapshots.require(version, config.version_wait)
        ),
        registry_service=RegistryService(
            registry,
            statistics,
            checker,
            lambda receipts: verify_store(database, _own_key(signing_key), receipts=receipts),
            config.max_data_age,
        ),
        listen=config.listen,
        workers=config.workers,
        max_concurrent_rpcs=config.max_concurrent_rpcs,
        poll_seconds=config.poll_seconds,
        reload=lambda caller: registry.reload(caller=caller),
        # One readiness source: gRPC health follows it, /readyz shows its latest finding.
        readiness=readiness_probe(
            lambda: snapshots.loaded,
            database.writable,
            lambda: _data_age(snapshots, clock),
            config.max_data_age,
        ),
        after_load=(
            *((lambda: _seed_sample(registry, entries),) if config.sample_wanted() else ()),
            *((follow_changes.start,) if follow_changes is not None else ()),
        ),
        ops=ops,
        gateway=gateway,
        local_socket=trust.socket_path if trust is not None else None,
        # The metrics and request-id interceptor outermost, so it sees every rejection.
        interceptors=(ObservingInterceptor(metrics), *guard.interceptors),
        credentials=_credentials(config),
        reuse_port=config.reuse_port,
        resources=tuple(opened),
    )


def _changes(
    config: Config, database: Database, registry: Registry, snapshots: Snapshots, origin: str
) -> ChangeListener | None:
    """On PostgreSQL, the listener that brings every change announced by another process in at once.

    SQLite has no notifications: its daemons find other processes' changes by the poll alone,
    which stays on PostgreSQL as the backstop (a notification lost with a cut link, say).
    """
    if database.is_sqlite:
        return None

    def follow(change: DataChange) -> None:
        if change.reload and change.origin == origin:
            return  # our own Reload call, done here already
        registry.follow(change)

    def caught_up() -> None:
        if snapshots.loaded and snapshots.refresh_if_changed():
            log.info("data_refreshed", data_version=snapshots.current.index.version)

    return ChangeListener(config.db_url, follow, caught_up)


def _own_key(signing_key: SigningKey | None) -> dict[str, PublicKey] | None:
    """The daemon's own checkpoint key, to verify its checkpoints with (None: not signing)."""
    if signing_key is None:
        return None
    public = signing_key.public()
    return {public.key_id: public}


def _data_age(snapshots: Snapshots, clock: Clock) -> float | None:
    """Seconds since the data's source last confirmed it, or None before any import."""
    age = snapshots.data_age(clock())
    return None if age is None else age.total_seconds()


def _watch(
    metrics: Metrics, snapshots: Snapshots, ledger: Ledger, statistics: Statistics, clock: Clock
) -> None:
    """The scrape-time gauges: snapshots in force, ledger queue, feedback follow-up."""

    def live() -> LiveFigures | None:
        if not snapshots.loaded:
            return None
        state = snapshots.current
        return LiveFigures(
            state.index.size,
            state.index.version,
            _data_age(snapshots, clock) or 0.0,
            state.catalogue.version,
            ledger.depth(),
        )

    metrics.watch(live, statistics.follow_up)


@dataclass(frozen=True, slots=True)
class _Guard:
    """What the access policy adds to the daemon: its interceptor, its probe counter, its reload."""

    interceptors: tuple[grpc.ServerInterceptor, ...] = ()
    on_decided: tuple[Callable[[CheckCase, Decision], None], ...] = ()
    reload_steps: tuple[Callable[[], None], ...] = ()


def _credentials(config: Config) -> grpc.ServerCredentials | None:
    """TLS credentials of the gRPC listener; None: plain text (loopback, or --insecure with a warning)."""
    from checkd.server import tls

    if config.tls_cert is not None and config.tls_key is not None:
        return tls.server_credentials(config.tls_cert, config.tls_key, config.tls_client_ca)
    if not is_loopback(config.listen):
        log.warning(
            "plain_text_on_network",
            listen=config.listen,
            detail="--insecure: calls, tokens and answers cross the network unencrypted",
        )
    return None


def _gateway_trust(config: Config, opened: list[Closeable]) -> GatewayTrust | None:
    """With --http-listen: a private directory for the gateway's socket, and the secret it forwards with."""
    if config.http_listen is None:
        return None
    directory = _PrivateDirectory(tempfile.mkdtemp(prefix="checkd-gw-"))  # mode 0700: ours alone
    opened.append(directory)
    return GatewayTrust(str(Path(directory.path) / "grpc.sock"))


@dataclass(frozen=True, slots=True)
class _PrivateDirectory:
    """A temporary directory removed when the daemon closes."""

    path: str

    def close(self) -> None:
        """Remove it and what is in it."""
        shutil.rmtree(self.path, ignore_errors=True)


def _access(
    config: Config,
    snapshots: Snapshots,
    records: LedgerRepository,
    keyer: SubjectKeyer,
    metrics: Metrics,
    trust: GatewayTrust | None,
) -> _Guard:
    """With a policy file, the authentication/authorization interceptor and its person-probe limit."""
    from checkd.server import auth, policy

    if config.policy_file is None:
        return _Guard()
    catalogue = snapshots.first_catalogue
    access = policy.PolicyFile(config.policy_file, catalogue.departments, catalogue.scenes)
    probes = auth.PersonProbes(keyer, on_refused=metrics.person_probe_refused)
    metrics.watch_person_probes(probes.distinct)

    def reload_policy() -> None:
        try:
            access.reload()
            log.info("policy_reloaded", policy=str(config.policy_file))
        except policy.PolicyError as exc:
            log.error("policy_reload_failed", problems=[str(p) for p in exc.problems])

    log.info(
        "access_policy",
        policy=str(config.policy_file),
        departments=len(access.current.departments),
        mutual_tls=config.tls_client_ca is not None,
    )
    return _Guard(
        (auth.AuthInterceptor(access, auth.owner_lookup(records), probes=probes, gateway=trust),),
        (probes.decided,),
        (reload_policy,),
    )


def _seed_sample(registry: Registry, entries: EntryRepository) -> None:
    """Seed an empty store with the bundled sample lists (embedded default store or --sample only)."""
    if entries.count() != 0:
        return
    with resources.as_file(resources.files("checkd.data") / "sample_entries.jsonl") as sample:
        loaded, _ = registry.upsert(read_rows([sample]), caller="checkd:sample")
    log.info("sample_loaded", entries=len(loaded.stored))
