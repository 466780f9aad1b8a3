"""Signed checkpoints of the evidence chain, by a key kept outside the store.

Whoever holds the store can rewrite the chain and recompute every hash; they cannot sign. The
daemon signs (seq, head hash, time, key id) every few seconds or records and at shutdown with a
private key read from a file the store never sees; `checkd ledger verify --checkpoint-pubkeys`
checks each signature against the public keys the verifier trusts, that the chain reaches each
checkpoint with the same hash, and reports the records after the last one as not yet covered.

Ed25519 (cryptography) is the default; SM2 with SM3 (GB/T 32918, GB/T 32905) through tongsuopy,
the Python SDK of the Tongsuo (铜锁) OpenSSL fork, for deployments that need 国密 algorithms.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from checkd.evidence.ledger import CHAIN_ALGORITHMS, chain_hash
from checkd.evidence.storage import ChainReader
from checkd.store import Checkpoint, CheckpointRepository, Database
from checkd.typing import Clock

log = structlog.get_logger(__name__)

SIGNATURE_ALGORITHMS = ("ed25519", "sm2")
CHAIN_ALGORITHM_KEY = "ledger_algorithm"
KEY_ENV = "CHECKD_CHECKPOINT_KEY"
_PEM_PUBLIC = b"-----BEGIN PUBLIC KEY-----"


class CheckpointKeyError(ValueError):
    """A checkpoint key that cannot be read or used, with the path and the reason."""


def chain_algorithm(database: Database, records: ChainReader, requested: str | None) -> str:
    """The chain hash of this store: recorded on first use; a store never silently switches it.

    A store written before the algorithm was recorded is SHA-256 (the only one there was).
    """
    if requested is not None and requested not in CHAIN_ALGORITHMS:
        raise ValueError(f"--ledger-algorithm: {requested!r} is not one of {', '.join(CHAIN_ALGORITHMS)}")
    recorded = database.get_meta(CHAIN_ALGORITHM_KEY)
    if recorded is None:
        first = requested or "sha256"
        if records.head()[0] > 0:
            first = "sha256"  # an existing chain from before the algorithm was recorded
        recorded = database.set_meta_if_absent(CHAIN_ALGORITHM_KEY, first)
    if requested is not None and requested != recorded:
        raise ValueError(
            f"--ledger-algorithm: this store's chain is hashed with {recorded}; it cannot be "
            f"switched to {requested}"
        )
    try:  # refuse at start, not at the first commit, where SM3 is missing from this Python's OpenSSL
        hashlib.new(recorded)
    except ValueError:
        raise ValueError(
            f"--ledger-algorithm: this store's chain is hashed with {recorded}, which this "
            "Python's hashlib (OpenSSL) does not provide"
        ) from None
    return recorded


def stored_chain_algorithm(database: Database) -> str:
    """The chain hash a store was written with, for verification (SHA-256 when not recorded)."""
    return database.get_meta(CHAIN_ALGORITHM_KEY) or "sha256"


# ----------------------------------------------------------------- keys


def _sm2() -> tuple[Any, Any, Any]:
    """tongsuopy's (ec, hashes, serialization) modules, imported only when SM2 is used."""
    try:
        from tongsuopy.crypto import hashes, serialization
        from tongsuopy.crypto.asymciphers import ec
    except ImportError as exc:  # an optional dependency: pip install 'checkd[gm]'
        raise CheckpointKeyError("SM2 needs the tongsuopy package (pip install 'checkd[gm]')") from exc
    return ec, hashes, serialization


def key_id_of(public_der: bytes) -> str:
    """A short, stable name of a public key: the first 16 hex digits of SHA-256 of its DER."""
    return hashlib.sha256(public_der).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class PublicKey:
    """A trusted checkpoint verification key."""

    algorithm: str
    key_id: str
    _key: Any

    def verify(self, signature: bytes, message: bytes) -> bool:
        """True when the signature over the message is this key's."""
        try:
            if self.algorithm == "ed25519":
                self._key.verify(signature, message)
            else:
                ec, hashes, _ = _sm2()
                self._key.verify(signature, message, ec.ECDSA(hashes.SM3()))
        except Exception:  # InvalidSignature of either library, or a malformed signature
            return False
        return True


@dataclass(frozen=True, slots=True)
class SigningKey:
    """The daemon's checkpoint signing key, read from a file outside the store."""

    algorithm: str
    key_id: str
    public_pem: bytes
    _key: Any

    def sign(self, message: bytes) -> bytes:
        """The signature over a message."""
        if self.algorithm == "ed25519":
            return bytes(self._key.sign(message))
        ec, hashes, _ = _sm2()
        return bytes(self._key.sign(message, ec.ECDSA(hashes.SM3())))

    def public(self) -> PublicKey:
        """The matching verification key."""
        return PublicKey(self.algorithm, self.key_id, self._key.public_key())


def new_key(algorithm: str = "ed25519") -> tuple[bytes, bytes]:
    """A new key pair as (private PKCS#8 PEM, public SubjectPublicKeyInfo PEM)."""
    if algorithm == "ed25519":
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

        key: Any = Ed25519PrivateKey.generate()
    elif algorithm == "sm2":
        ec, _, serialization = _sm2()
        key = ec.generate_private_key(ec.SM2())
    else:
        raise CheckpointKeyError(
            f"unknown checkpoint algorithm {algorithm!r}: one of {', '.join(SIGNATURE_ALGORITHMS)}"
        )
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return bytes(private), bytes(public)


def _public_der(key: Any, serialization: Any) -> bytes:
    """A public key's SubjectPublicKeyInfo DER (what its key id is computed over)."""
    return bytes(
        key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def load_signing_key(path: Path) -> SigningKey:
    """The private key in a PEM file (Ed25519 or SM2), or CheckpointKeyError saying why it is unusable."""
    try:
        pem = path.read_bytes()
    except OSError as exc:
        raise CheckpointKeyError(f"--checkpoint-key: cannot read {path}: {exc.strerror}") from exc
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        key: Any = serialization.load_pem_private_key(pem, None)
    except Exception:
        key = None
    if isinstance(key, Ed25519PrivateKey):
        public_pem = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return SigningKey("ed25519", key_id_of(_public_der(key.public_key(), serialization)), public_pem, key)
    if b"PRIVATE KEY" in pem:
        try:
            ec, _, sm_serialization = _sm2()
            sm_key = sm_serialization.load_pem_private_key(pem, None)
        except CheckpointKeyError:
            raise
        except Exception:
            sm_key = None
        if sm_key is not None and isinstance(getattr(sm_key, "curve", None), ec.SM2):
            public = sm_key.public_key()
            public_pem = public.public_bytes(
                sm_serialization.Encoding.PEM, sm_serialization.PublicFormat.SubjectPublicKeyInfo
            )
            key_id = key_id_of(_public_der(public, sm_serialization))
            return SigningKey("sm2", key_id, bytes(public_pem), sm_key)
    raise CheckpointKeyError(f"--checkpoint-key: {path} holds no Ed25519 or SM2 private key (PEM, PKCS#8)")


def _load_public(pem: bytes) -> PublicKey:
    """One PEM public key, Ed25519 or SM2."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        key: Any = serialization.load_pem_public_key(pem)
    except Exception:
        key = None
    if isinstance(key, Ed25519PublicKey):
        return PublicKey("ed25519", key_id_of(_public_der(key, serialization)), key)
    ec, _, sm_serialization = _sm2()
    sm_key = sm_serialization.load_pem_public_key(pem)
    if not isinstance(getattr(sm_key, "curve", None), ec.SM2):
        raise CheckpointKeyError("not an Ed25519 or SM2 public key")
    return PublicKey("sm2", key_id_of(_public_der(sm_key, sm_serialization)), sm_key)


def load_public_keys(path: Path) -> dict[str, PublicKey]:
    """The trusted public keys in a PEM file (one or more keys) or in every file of a directory."""
    files = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else [path]
    keys: dict[str, PublicKey] = {}
    for file in files:
        try:
            text = file.read_bytes()
        except OSError as exc:
            raise CheckpointKeyError(f"--checkpoint-pubkeys: cannot read {file}: {exc.strerror}") from exc
        for block in text.split(_PEM_PUBLIC)[1:]:
            try:
                key = _load_public(_PEM_PUBLIC + block)
            except Exception as exc:
                raise CheckpointKeyError(f"--checkpoint-pubkeys: {file}: {exc}") from exc
            keys[key.key_id] = key
    if not keys:
        raise CheckpointKeyError(f"--checkpoint-pubkeys: {path} holds no public key (PEM)")
    return keys


# ----------------------------------------------------------------- checkpoints


def signed_message(
    seq: int, head_hash: str, signed_at: dt.datetime, key_id: str, algorithm: str, chain_algorithm: str
) -> bytes:
    """The exact bytes a checkpoint signature covers (algorithms included: no downgrade)."""
    return (
        f"checkd-ledger-checkpoint/1\n{chain_algorithm}\n{seq}\n{head_hash}\n{signed_at.isoformat()}\n"
        f"{key_id}\n{algorithm}"
    ).encode()


def sign(
    key: SigningKey, seq: int, head_hash: str, signed_at: dt.datetime, chain_algorithm: str
) -> Checkpoint:
    """A checkpoint of the chain head, signed."""
    message = signed_message(seq, head_hash, signed_at, key.key_id, key.algorithm, chain_algorithm)
    signature = base64.b64encode(key.sign(message)).decode()
    return Checkpoint(seq, head_hash, signed_at, key.key_id, key.algorithm, chain_algorithm, signature)


def check_signatures(
    checkpoints: Iterable[Checkpoint], trusted: dict[str, PublicKey], chain_algorithm: str
) -> tuple[list[tuple[int, str]], list[str]]:
    """The (seq, hash) of checkpoints whose signature verifies, and a problem for each that does not."""
    valid: list[tuple[int, str]] = []
    problems: list[str] = []
    for point in checkpoints:
        name = f"checkpoint at record {point.seq} (key {point.key_id}, {point.signed_at.isoformat()})"
        key = trusted.get(point.key_id)
        if key is None:
            problems.append(f"{name} is signed by a key that is not trusted")
            continue
        try:
            signature = base64.b64decode(point.signature, validate=True)
        except ValueError:
            problems.append(f"{name} has a malformed signature")
            continue
        message = signed_message(
            point.seq, point.head_hash, point.signed_at, point.key_id, key.algorithm, point.chain_algorithm
        )
        if key.algorithm != point.algorithm or not key.verify(signature, message):
            problems.append(f"{name}: the signature does not verify")
        elif point.chain_algorithm != chain_algorithm:
            problems.append(
                f"{name} vouches for a {point.chain_algorithm} chain, the store is {chain_algorithm}"
            )
        else:
            valid.append((point.seq, point.head_hash))
    return valid, problems


class Checkpointer:
    """Signs the chain head every `seconds` or `records`, and once more at close (after the last commit).

    Before signing it re-verifies the records since its last checkpoint, so it never vouches
    for a stretch of chain that does not link to what it signed before.
    """

    def __init__(
        self,
        records: ChainReader,
        checkpoints: CheckpointRepository,
        key: SigningKey,
        clock: Clock,
        chain_algorithm: str,
        *,
        seconds: float = 60.0,
        records_every: int = 10_000,
    ) -> None:
        self._records = records
        self._checkpoints = checkpoints
        self._key = key
        self._clock = clock
        self._chain_algorithm = chain_algorithm
        self._seconds = seconds
        self._records_every = records_every
        self._signed: tuple[int, str] | None = None  # the head this process last vouched for
        self._last_time = time.monotonic()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._refused = ""
        self._thread = threading.Thread(target=self._run, name="ledger-checkpoint", daemon=True)

    def start(self) -> None:
        """Start signing in the background."""
        log.info(
            "checkpoint_key",
            key_id=self._key.key_id,
            algorithm=self._key.algorithm,
            chain_algorithm=self._chain_algorithm,
        )
        self._thread.start()

    def close(self) -> None:
        """Stop the background thread and sign the final head (call after the ledger is flushed)."""
        self._stop.set()
        self._thread.join(30)
        self.checkpoint(force=True)

    def _run(self) -> None:
        """Check once a second (or each period, if shorter) whether a checkpoint is due."""
        while not self._stop.wait(min(1.0, self._seconds)):
            self.checkpoint()

    def checkpoint(self, *, force: bool = False) -> Checkpoint | None:
        """Sign the head now if it advanced and (forced, or the period or record count passed)."""
        with self._lock:
            try:
                return self._checkpoint(force)
            except Exception as exc:  # a store outage: try again next period
                log.warning("checkpoint_failed", error=str(exc))
                return None

    def _checkpoint(self, force: bool) -> Checkpoint | None:
        """Sign and store the head when it is due and the chain up to it verifies."""
        if self._signed is None:
            self._signed = self._trusted_start()
        seq, head_hash = self._records.head()
        if seq <= self._signed[0]:
            return None
        due = (
            time.monotonic() - self._last_time >= self._seconds
            or seq - self._signed[0] >= self._records_every
        )
        if not (force or due):
            return None
        problem = self._extension_problem(self._signed, seq, head_hash)
        if problem:
            if problem != self._refused:
                log.error("checkpoint_refused", problem=problem, signed_seq=self._signed[0])
                self._refused = problem
            return None
        point = sign(self._key, seq, head_hash, self._clock(), self._chain_algorithm)
        self._checkpoints.add(point)
        self._signed, self._last_time = (seq, head_hash), time.monotonic()
        # Also in the log, which lives apart from the store: a copy the store's holder cannot delete.
        log.info(
            "ledger_checkpoint", seq=seq, hash=head_hash, key_id=point.key_id, at=point.signed_at.isoformat()
        )
        return point

    def _trusted_start(self) -> tuple[int, str]:
        """The newest stored checkpoint this key signed and that verifies; else the chain's start."""
        mine = {self._key.key_id: self._key.public()}
        valid, _ = check_signatures(self._checkpoints.newest(self._key.key_id), mine, self._chain_algorithm)
        return max(valid, default=(0, ""))

    def _extension_problem(self, start: tuple[int, str], head: int, head_hash: str) -> str:
        """Why the records from `start` to `head` do not form a valid chain (empty when they do)."""
        seq, prev = start
        for record in self._records.iter_records(after_seq=start[0]):
            if record.seq > head:
                break
            if record.seq != seq + 1 or record.prev_hash != prev:
                return f"record {record.seq} does not follow record {seq}"
            digest = chain_hash(
                prev,
                record.seq,
                record.kind,
                record.ref_id,
                record.recorded_at,
                record.payload,
                self._chain_algorithm,
            )
            if digest != record.hash:
                return f"record {record.seq} does not match its hash"
            seq, prev = record.seq, record.hash
        if seq != head or prev != head_hash:
            return f"the chain stops at record {seq}, not at the head {head} it reported"
        return ""


def key_path_from_env() -> Path | None:
    """The checkpoint key file named by CHECKD_CHECKPOINT_KEY, if set."""
    value = os.environ.get(KEY_ENV)
    return Path(value) if value else None


__all__ = [
    "SIGNATURE_ALGORITHMS",
    "CheckpointKeyError",
    "Checkpointer",
    "PublicKey",
    "SigningKey",
    "chain_algorithm",
    "check_signatures",
    "key_path_from_env",
    "load_public_keys",
    "load_signing_key",
    "new_key",
    "sign",
    "signed_message",
    "stored_chain_algorithm",
]
