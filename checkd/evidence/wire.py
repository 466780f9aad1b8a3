"""Protobuf wire-format pieces, so a stored answer can be assembled from bytes without messages.

The wire format concatenates: a message is its fields one after the other, and an embedded or
repeated message is its tag, its length and its bytes. Fields are written in field-number order
with proto3's implicit presence (a zero, empty or false value is left out), which is what the
protobuf runtime's own serialiser writes, so a message assembled here has the same bytes as the
same message built and serialised by the runtime (tests/unit/test_answer_bytes.py holds them equal).
"""

from __future__ import annotations

_LEN, _VARINT = 2, 0  # wire types used by the answers


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
# Field keys of fields 0..31 (the answers' messages have fewer than 32 fields), looked up, not computed.
_KEY_LEN = [varint((field << 3) | _LEN) for field in range(32)]
_KEY_VARINT = [varint((field << 3) | _VARINT) for field in range(32)]


def length_delimited(field: int, data: bytes) -> bytes:
    """An embedded message, string or bytes field (written even when empty: for embedded messages)."""
    size = len(data)
    return _KEY_LEN[field] + (_SMALL[size] if size < 0x80 else varint(size)) + data


def text(field: int, value: str) -> bytes:
    """A singular string field (left out when empty)."""
    if not value:
        return b""
    data = value.encode()
    size = len(data)
    return _KEY_LEN[field] + (_SMALL[size] if size < 0x80 else varint(size)) + data


def texts(field: int, values: tuple[str, ...] | list[str]) -> bytes:
    """A repeated string field (every element written, empty ones included)."""
    return b"".join([length_delimited(field, value.encode()) for value in values])


def number(field: int, value: int) -> bytes:
    """A singular int32/int64/enum/bool field (left out when zero)."""
    if not value:
        return b""
    return _KEY_VARINT[field] + (_SMALL[value] if 0 < value < 0x80 else varint(int(value)))
