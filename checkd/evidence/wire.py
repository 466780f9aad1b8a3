"""Protobuf wire-format pieces, so a stored answer can be assembled from bytes without messages.

The wire format concatenates: a message is its fields one after the other, and an embedded or
repeated message is its tag, its length and its bytes. Fields are written in field-number order
with proto3's implicit presence (a zero, empty or false value is left out), which is what the
protobuf runtime's own serialiser writes, so a message assembled here has the same bytes as the
same message built and serialised by the runtime (tests/unit/test_answer_bytes.py holds them equal).
"""

from __future__ import annotations

import functools

_LEN, _VARINT = 2, 0  # wire types used by the answers


@functools.cache  # field numbers and wire types are a few dozen constants
def tag(field: int, wire_type: int) -> bytes:
    """The key of a field: its number and wire type as one varint."""
    return varint((field << 3) | wire_type)


def varint(value: int) -> bytes:
    """An unsigned varint; a negative int64 is written as its 64-bit two's complement (10 bytes)."""
    if 0 <= value < 0x80:
        return _SMALL[value]
    value &= 0xFFFF_FFFF_FFFF_FFFF
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


_SMALL = [bytes((n,)) for n in range(0x80)]


def length_delimited(field: int, data: bytes) -> bytes:
    """An embedded message, string or bytes field (written even when empty: for embedded messages)."""
    return tag(field, _LEN) + varint(len(data)) + data


def text(field: int, value: str) -> bytes:
    """A singular string field (left out when empty)."""
    if not value:
        return b""
    data = value.encode()
    return tag(field, _LEN) + varint(len(data)) + data


def texts(field: int, values: tuple[str, ...] | list[str]) -> bytes:
    """A repeated string field (every element written, empty ones included)."""
    return b"".join(length_delimited(field, value.encode()) for value in values)


def number(field: int, value: int) -> bytes:
    """A singular int32/int64/enum/bool field (left out when zero)."""
    if not value:
        return b""
    return tag(field, _VARINT) + varint(int(value))


def timestamp(field: int, seconds: int, nanos: int) -> bytes:
    """A google.protobuf.Timestamp field that is set (written even for the epoch)."""
    return length_delimited(field, number(1, seconds) + number(2, nanos))
