"""The index snapshot file: entries encoded once in one region, their keys in a hashed table, via mmap."""

from __future__ import annotations

import collections
import datetime as dt
import io
import itertools
import json
import marshal
import mmap
import os
import threading
import uuid
import zlib
from array import array
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, TypeVar

from checkd.model import (
    ListEntry,
    Reinstatement,
    RelatedPerson,
    Revocation,
    RevokeKind,
    Role,
    SourceLevel,
    SubjectType,
)
from checkd.values import quick_init

MAGIC = b"CHECKDIX"
FORMAT = 2
HEADER_SIZE = 4096  # the magic, the header's length, then the header as JSON, padded with zeros
DECODED_KEPT = 32_768  # decoded entries kept per snapshot (some 30 MB at most)
BUCKET_PAIRS = 1 << 20  # (hash, posting) pairs per bucket while the writer builds the key table

# What a posting says about the key it sits under (the low 3 bits; the entry's ordinal above them).
KIND_KEY = 0  # the entry's subject key or registration number
KIND_ORG_CODE = 1  # the entry's organisation code (the cross-walk)
KIND_ID = 2  # the entry's id (an update tells replaced entries from new ones by it)
KIND_RELATED = 3  # 3 + the role's number: a person related to the entry in that role
_KIND_BITS = 3
_KIND_MASK = (1 << _KIND_BITS) - 1

_SUBJECT_TYPES = tuple(SubjectType)
_LEVELS = tuple(SourceLevel)
_ROLES = tuple(Role)
_REVOKE_KINDS = tuple(RevokeKind)
_SUBJECT_TYPE_NO = {v: i for i, v in enumerate(_SUBJECT_TYPES)}
_LEVEL_NO = {v: i for i, v in enumerate(_LEVELS)}
_ROLE_NO = {v: i for i, v in enumerate(_ROLES)}
_REVOKE_KIND_NO = {v: i for i, v in enumerate(_REVOKE_KINDS)}
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_NAIVE_EPOCH = dt.datetime(1970, 1, 1)
_MICROSECOND = dt.timedelta(microseconds=1)
assert len(_ROLES) <= (1 << _KIND_BITS) - KIND_RELATED


class SnapshotRefused(Exception):
    """A snapshot file that must not be served: absent, truncated, damaged, foreign or out of date."""


_Key = TypeVar("_Key")
_Kept = TypeVar("_Kept")


def _keep(memory: collections.OrderedDict[_Key, _Kept], key: _Key, value: _Kept) -> None:
    """Keep `value` under `key`, the oldest dropped once DECODED_KEPT are kept (the caller holds the lock)."""
    if len(memory) >= DECODED_KEPT:
        memory.popitem(last=False)
    memory[key] = value


def key_hash(key: str) -> int:
    """A 32-bit hash of a key, the same in every process (0 marks an empty slot, so never 0).

    Two keys may share it (rarely: a city's million keys in 4 billion values): a lookup confirms
    every posting against its decoded entry, so a shared hash costs a decode, never a wrong hit.
    """
    return _crc(key.encode()) or 1


_crc = zlib.crc32  # the hash of every key (a test makes keys share hashes by replacing it)


@dataclass(frozen=True, slots=True)
class Header:
    """What a snapshot file says about itself, checked before anything in it is used."""

    store: str  # the identity of the store the entries came from
    data_version: int
    entries: int
    slots: int
    postings: int
    strings: tuple[int, int]  # the regions, as (offset, length) in the file
    offsets: tuple[int, int]
    hashes: tuple[int, int]
    starts: tuple[int, int]
    posting_region: tuple[int, int]
    size: int  # the whole file's length
    crc: int  # CRC-32 of everything after the header

    def encode(self) -> bytes:
        """The header block (HEADER_SIZE bytes)."""
        fields = {name: getattr(self, name) for name in self.__slots__}
        text = json.dumps({"format": FORMAT, **fields}, sort_keys=True).encode()
        block = MAGIC + len(text).to_bytes(4, "little") + text
        if len(block) > HEADER_SIZE:
            raise ValueError("snapshot header too long")
        return block.ljust(HEADER_SIZE, b"\0")

    @classmethod
    def decode(cls, block: bytes) -> Header:
        """The header read from a file's first bytes; SnapshotRefused for anything else."""
        if len(block) < HEADER_SIZE or not block.startswith(MAGIC):
            raise SnapshotRefused("not an index snapshot file")
        length = int.from_bytes(block[len(MAGIC) : len(MAGIC) + 4], "little")
        start = len(MAGIC) + 4
        try:
            fields = json.loads(block[start : start + length])
        except ValueError as exc:
            raise SnapshotRefused(f"unreadable snapshot header: {exc}") from None
        if not isinstance(fields, dict) or fields.pop("format", None) != FORMAT:
            raise SnapshotRefused("snapshot file of another format version")
        try:
            for name in ("strings", "offsets", "hashes", "starts", "posting_region"):
                fields[name] = tuple(fields[name])
            return cls(**fields)
        except (TypeError, KeyError) as exc:
            raise SnapshotRefused(f"incomplete snapshot header: {exc}") from None


# ---------------------------------------------------------------------------------------- writing


class _Strings:
    """The few values many entries share (lists, authorities, documents, reasons), stored once."""

    def __init__(self) -> None:
        self.numbers: dict[str, int] = {}

    def __call__(self, value: str) -> int:
        number = self.numbers.get(value)
        if number is None:
            number = self.numbers[value] = len(self.numbers)
        return number


def _moment(at: dt.datetime) -> tuple[int, int | None]:
    offset = at.utcoffset()
    if offset is None:
        return (at - _NAIVE_EPOCH) // _MICROSECOND, None
    return (at - _EPOCH) // _MICROSECOND, offset // dt.timedelta(seconds=1)


def _encode(entry: ListEntry, shared: _Strings) -> bytes:
    revocation = entry.revocation
    reinstatement = entry.reinstatement
    return marshal.dumps(
        (
            entry.entry_id,
            entry.subject_key,
            entry.display_id,
            _SUBJECT_TYPE_NO[entry.subject_type],
            entry.subject_name,
            shared(entry.list_id),
            shared(entry.authority),
            shared(entry.document_no),
            _LEVEL_NO[entry.level],
            entry.start.toordinal(),
            None if entry.end is None else entry.end.toordinal(),
            shared(entry.reason),
            shared(entry.severity),
            entry.org_code,
            entry.registration_no,
            tuple((_ROLE_NO[p.role], p.subject_key, p.masked_id, p.name) for p in entry.related),
            None
            if revocation is None
            else (
                _moment(revocation.at),
                revocation.reason,
                revocation.document_no,
                _REVOKE_KIND_NO[revocation.kind],
            ),
            None
            if reinstatement is None
            else (
                _moment(reinstatement.at),
                reinstatement.reason,
                reinstatement.document_no,
                _moment(reinstatement.lifted_at),
                reinstatement.lifted_document_no,
            ),
        )
    )


def entry_keys(entry: ListEntry) -> list[tuple[str, int]]:
    """Every (key, kind) an entry is found under, in the order the reference index adds them."""
    keys = [(entry.subject_key, KIND_KEY)]
    if entry.registration_no and entry.registration_no != entry.subject_key:
        keys.append((entry.registration_no, KIND_KEY))
    if entry.org_code:
        keys.append((entry.org_code, KIND_ORG_CODE))
    keys.extend((p.subject_key, KIND_RELATED + _ROLE_NO[p.role]) for p in entry.related)
    keys.append((entry.entry_id, KIND_ID))
    return keys


def write(entries: Iterable[ListEntry], out: IO[bytes], store: str, data_version: int) -> Header:
    """Write a snapshot of `entries` to `out` (seekable, positioned at 0); the header goes in last.

    The entries stream through: only their offsets and one (hash, posting) pair per key are kept
    while writing, never the entries themselves.
    """
    out.write(bytes(HEADER_SIZE))
    crc = 0
    shared = _Strings()
    offsets = array("Q", [0])
    hashes = array("I")
    postings = array("I")
    position = 0
    chunk: list[bytes] = []
    for ordinal, entry in enumerate(entries):
        data = _encode(entry, shared)
        position += len(data)
        offsets.append(position)
        chunk.append(data)
        if len(chunk) >= 4096:
            block = b"".join(chunk)
            crc = zlib.crc32(block, crc)
            out.write(block)
            chunk.clear()
        for key, kind in entry_keys(entry):
            hashes.append(key_hash(key))
            postings.append(ordinal << _KIND_BITS | kind)
    block = b"".join(chunk)
    crc = zlib.crc32(block, crc)
    out.write(block)
    count = len(offsets) - 1
    if count >= 1 << (32 - _KIND_BITS):
        raise ValueError(f"{count:,} entries are more than one snapshot file holds")
    table_hashes, starts, ordered = _table(hashes, postings)
    del hashes, postings
    regions: dict[str, tuple[int, int]] = {}
    at = HEADER_SIZE + position
    blocks: list[tuple[str, bytes | memoryview]] = [
        ("strings", marshal.dumps(tuple(shared.numbers))),
        ("offsets", memoryview(offsets).cast("B")),
        ("hashes", memoryview(table_hashes).cast("B")),
        ("starts", memoryview(starts).cast("B")),
        ("posting_region", memoryview(ordered).cast("B")),
    ]
    for name, region in blocks:
        pad = -at % 8  # the arrays are read in place: keep them aligned
        if pad:
            crc = zlib.crc32(bytes(pad), crc)
            out.write(bytes(pad))
            at += pad
        crc = zlib.crc32(region, crc)
        out.write(region)
        regions[name] = (at, len(region))
        at += len(region)
    header = Header(
        store=store,
        data_version=data_version,
        entries=count,
        slots=len(table_hashes),
        postings=len(ordered),
        strings=regions["strings"],
        offsets=regions["offsets"],
        hashes=regions["hashes"],
        starts=regions["starts"],
        posting_region=regions["posting_region"],
        size=at,
        crc=crc,
    )
    out.seek(0)
    out.write(header.encode())
    return header


def _table(hashes: array[int], postings: array[int]) -> tuple[array[int], array[int], array[int]]:
    """The open-addressing table (linear probing, at most half full) and the postings in slot order.

    A key's postings keep their writing order (the entries' order, then the order of their keys), so
    lookups return hits in the same order as the reference index. The keys are taken a bucket at a
    time (split by their hash's high bits, so a key's postings share a bucket): only flat arrays grow
    with the whole file, never a Python object per posting or per key (a national file's ~200 M
    postings would need 10-20 GB as Python lists and dicts).
    """
    members = _buckets(hashes)
    unique = sum(len(set(map(hashes.__getitem__, bucket))) for bucket in members)
    slots = 8
    while slots < 2 * unique:
        slots *= 2
    mask = slots - 1
    table = array("I", bytes(4 * slots))
    counts = array("I", bytes(4 * slots))
    for bucket in members:
        for value, count in collections.Counter(map(hashes.__getitem__, bucket)).items():
            slot = value & mask
            while table[slot]:
                slot = (slot + 1) & mask
            table[slot] = value
            counts[slot] = count
    starts = array("I", itertools.accumulate(counts, initial=0))
    del counts
    fill = array("I", starts[:-1])
    ordered = array("I", bytes(4 * len(postings)))
    for bucket in members:
        slot_of: dict[int, int] = {}
        for i in bucket:  # ascending: each key's postings in writing order
            value = hashes[i]
            slot = slot_of.get(value, -1)
            if slot < 0:
                slot = value & mask
                while table[slot] != value:
                    slot = (slot + 1) & mask
                slot_of[value] = slot
            ordered[fill[slot]] = postings[i]
            fill[slot] += 1
    return table, starts, ordered


def _buckets(hashes: array[int]) -> list[Sequence[int]]:
    """The positions of the pairs in buckets of about BUCKET_PAIRS, by the high bits of their hash."""
    count = 1
    while count * BUCKET_PAIRS < len(hashes):
        count *= 2
    if count == 1:
        return [range(len(hashes))]
    shift = 32 - (count.bit_length() - 1)
    members = [array("I") for _ in range(count)]
    for i, value in enumerate(hashes):
        members[value >> shift].append(i)
    return list(members)


def write_file(entries: Iterable[ListEntry], path: Path, store: str, data_version: int) -> Header:
    """Write a snapshot file atomically: a temporary file beside it, flushed, then renamed over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    # Owner-only: the file holds what the store holds (keyed hashes and masked numbers of persons).
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as out:
            header = write(entries, out, store, data_version)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return header


# ---------------------------------------------------------------------------------------- reading


@quick_init
@dataclass(frozen=True, slots=True)
class Resolved:
    """The entries one key names: as subject key or registration number, as organisation code, as person."""

    direct: tuple[ListEntry, ...]
    org_code: tuple[ListEntry, ...]
    related: tuple[tuple[Role, ListEntry], ...]


class Snapshot:
    """One snapshot's entries and keys, read in place; an entry is decoded when a lookup hits it."""

    def __init__(self, buffer: Any, header: Header) -> None:
        self.header = header
        self._buffer = buffer  # the mmap (or bytes) the views below read; kept alive with them
        view = memoryview(buffer)
        self._view = view
        self._strings: tuple[str, ...] = marshal.loads(_region(view, header.strings))
        self._offsets = _region(view, header.offsets).cast("Q")
        self._hashes = _region(view, header.hashes).cast("I")
        self._starts = _region(view, header.starts).cast("I")
        self._postings = _region(view, header.posting_region).cast("I")
        self._mask = header.slots - 1
        self._blob = HEADER_SIZE
        # Decoded entries by ordinal: a hot entry comes back as the same object (the answer
        # fragments are cached by entry identity), and memory stays bounded. Both memories drop
        # their oldest first: an OrderedDict does that in constant time, where a plain dict's
        # next(iter()) walks over every slot its earlier deletions left empty (7 us at this size).
        self._decoded: collections.OrderedDict[int, ListEntry] = collections.OrderedDict()
        # What a key resolved to, by its slot (with the key: two keys may share a slot's hash).
        self._resolved: collections.OrderedDict[int, tuple[str, Resolved]] = collections.OrderedDict()
        self._lock = threading.Lock()
        if len(self._offsets) != header.entries + 1 or len(self._starts) != header.slots + 1:
            raise SnapshotRefused("snapshot regions disagree with its header")

    @property
    def size(self) -> int:
        """How many entries the snapshot holds."""
        return self.header.entries

    def postings(self, key: str) -> memoryview | None:
        """The postings under this key's hash (None: no key with that hash)."""
        slot = self._slot(key)
        if slot < 0:
            return None
        starts = self._starts
        return self._postings[starts[slot] : starts[slot + 1]]

    def _slot(self, key: str) -> int:
        value = key_hash(key)
        hashes = self._hashes
        mask = self._mask
        slot = value & mask
        while True:
            found = hashes[slot]
            if found == value:
                return slot
            if not found:
                return -1
            slot = (slot + 1) & mask

    def find(self, key: str) -> Resolved | None:
        """The entries under this key (None: no key with its hash), confirmed against it.

        Resolved once per key and kept (bounded), so a listed subject checked again costs one
        probe and one dict read, with the same entry objects.
        """
        value = _crc(key.encode()) or 1  # key_hash, inlined: this runs for every subject checked
        hashes = self._hashes
        mask = self._mask
        slot = value & mask
        while True:
            found = hashes[slot]
            if found == value:
                break
            if not found:
                return None
            slot = (slot + 1) & mask
        kept = self._resolved.get(slot)
        if kept is not None and kept[0] == key:
            return kept[1]
        resolved = self._resolve(key, slot)
        with self._lock:  # two threads dropping the oldest at once would drop it twice
            _keep(self._resolved, slot, (key, resolved))
        return resolved

    def _resolve(self, key: str, slot: int) -> Resolved:
        direct: list[ListEntry] = []
        org: list[ListEntry] = []
        related: list[tuple[Role, ListEntry]] = []
        starts = self._starts
        entry_of = self.entry
        for posting in self._postings[starts[slot] : starts[slot + 1]]:
            kind = posting & _KIND_MASK
            if kind == KIND_ID:
                continue
            entry = entry_of(posting >> _KIND_BITS)
            if kind == KIND_KEY:
                if key in (entry.subject_key, entry.registration_no):
                    direct.append(entry)
            elif kind == KIND_ORG_CODE:
                if entry.org_code == key:
                    org.append(entry)
            else:
                role = _ROLES[kind - KIND_RELATED]
                if any(p.subject_key == key and p.role is role for p in entry.related):
                    related.append((role, entry))
        return Resolved(tuple(direct), tuple(org), tuple(related))

    def entry(self, ordinal: int) -> ListEntry:
        """The entry with this ordinal, decoded once and kept while it is used."""
        entry = self._decoded.get(ordinal)
        if entry is not None:
            return entry
        entry = self._decode(ordinal)
        with self._lock:
            decoded = self._decoded
            kept = decoded.get(ordinal)
            if kept is not None:
                return kept  # another thread decoded it first: everyone gets that object
            _keep(decoded, ordinal, entry)
        return entry

    def find_id(self, entry_id: str) -> ListEntry | None:
        """The entry with this id, if the snapshot holds it."""
        postings = self.postings(entry_id)
        if postings is None:
            return None
        for posting in postings:
            if posting & _KIND_MASK == KIND_ID:
                entry = self.entry(posting >> _KIND_BITS)
                if entry.entry_id == entry_id:
                    return entry
        return None

    def __iter__(self) -> Any:
        """Every entry in the order written."""
        return (self._decode(ordinal) for ordinal in range(self.header.entries))

    def _decode(self, ordinal: int) -> ListEntry:
        offsets = self._offsets
        start = self._blob + offsets[ordinal]
        values = marshal.loads(self._view[start : self._blob + offsets[ordinal + 1]])
        strings = self._strings
        revoked = values[16]
        reinstated = values[17]
        return ListEntry(
            values[0],
            values[1],
            values[2],
            _SUBJECT_TYPES[values[3]],
            values[4],
            strings[values[5]],
            strings[values[6]],
            strings[values[7]],
            _LEVELS[values[8]],
            dt.date.fromordinal(values[9]),
            None if values[10] is None else dt.date.fromordinal(values[10]),
            strings[values[11]],
            strings[values[12]],
            values[13],
            values[14],
            tuple(RelatedPerson(_ROLES[r], key, masked, name) for r, key, masked, name in values[15]),
            None
            if revoked is None
            else Revocation(_instant(revoked[0]), revoked[1], revoked[2], _REVOKE_KINDS[revoked[3]]),
            None
            if reinstated is None
            else Reinstatement(
                _instant(reinstated[0]), reinstated[1], reinstated[2], _instant(reinstated[3]), reinstated[4]
            ),
        )


def _instant(moment: tuple[int, int | None]) -> dt.datetime:
    micros, offset = moment
    if offset is None:
        return _NAIVE_EPOCH + micros * _MICROSECOND
    at = _EPOCH + micros * _MICROSECOND
    return at if offset == 0 else at.astimezone(dt.timezone(dt.timedelta(seconds=offset)))


def _region(view: memoryview, region: tuple[int, int]) -> memoryview:
    start, length = region
    if start < HEADER_SIZE or start % 8 or start + length > len(view):
        raise SnapshotRefused("snapshot region outside the file")
    return view[start : start + length]


def in_memory(entries: Iterable[ListEntry]) -> Snapshot:
    """A snapshot of `entries` held in memory (no file): the same format, for tests and the bench."""
    out = io.BytesIO()
    header = write(entries, out, "", 0)
    return Snapshot(out.getvalue(), header)


def read_header(path: Path) -> Header:
    """The header of a snapshot file (SnapshotRefused if it has none)."""
    try:
        with path.open("rb") as source:
            return Header.decode(source.read(HEADER_SIZE))
    except OSError as exc:
        raise SnapshotRefused(f"no snapshot file: {exc}") from None


def open_file(path: Path, store: str, data_version: int, *, verify: bool = True) -> Snapshot:
    """Map a snapshot file, refusing it unless it is whole and of this store at this data version.

    `verify` reads the file once (through the page cache, not the mapping) to check its CRC, so a
    damaged file is rebuilt rather than served.
    """
    try:
        source = path.open("rb")
    except OSError as exc:
        raise SnapshotRefused(f"no snapshot file: {exc}") from None
    with source:
        header = Header.decode(source.read(HEADER_SIZE))
        if header.store != store:
            raise SnapshotRefused(f"snapshot file of another store ({header.store!r})")
        if header.data_version != data_version:
            raise SnapshotRefused(
                f"snapshot file of data version d{header.data_version}, the store is at d{data_version}"
            )
        length = os.fstat(source.fileno()).st_size
        if length != header.size:
            raise SnapshotRefused(f"snapshot file is {length:,} bytes, its header says {header.size:,}")
        if verify:
            crc = 0
            while block := source.read(1 << 20):
                crc = zlib.crc32(block, crc)
            if crc != header.crc:
                raise SnapshotRefused("snapshot file is damaged (its checksum differs)")
        mapped = mmap.mmap(source.fileno(), 0, access=mmap.ACCESS_READ)
        if hasattr(mmap, "MADV_RANDOM"):  # lookups land anywhere: no read-ahead around each
            mapped.madvise(mmap.MADV_RANDOM)
    return Snapshot(mapped, header)
