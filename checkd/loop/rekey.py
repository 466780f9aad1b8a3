"""Re-key personal data under a new secret: recover each number under the old secret, hash it anew.

The store keeps no identity number in clear, only HMAC(old secret, number) and the masked form
(first 6 + last 4 characters). The 8 hidden characters are the birth date, so with the old secret
the number is found by trying the few thousand dates whose check character fits. That is also the
reason the secret must be guarded as carefully as the numbers themselves (docs/security.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from functools import cache

from checkd.days import china_day
from checkd.evidence.entry_audit import change_payloads
from checkd.evidence.ledger import Ledger
from checkd.store.rekey import RekeyRefused, RekeyReport, rekey_change
from checkd.subjects.ids import MIN_BIRTH_YEAR
from checkd.subjects.keys import SubjectKeyer

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"


def rekey(
    ledger: Ledger,
    fingerprint_key: str,
    old: SubjectKeyer,
    new: SubjectKeyer,
    caller: str,
    today: dt.date | None = None,
) -> RekeyReport:
    """Replace every person key made with `old` by the key `new` makes, audited in the same transaction."""
    if old.fingerprint() == new.fingerprint():
        raise RekeyRefused("the new secret is the old one")
    last_year = (today or china_day(dt.datetime.now(dt.UTC))).year

    def new_key_of(old_key: str, masked: str) -> str:
        return new.person_key(recover_number(old, old_key, masked, last_year))

    change = rekey_change(fingerprint_key, old.fingerprint(), new.fingerprint(), new_key_of)
    (report, _), _ = ledger.commit_change(
        change,
        lambda done: change_payloads(
            "rekey",
            caller,
            done[1],
            data_version=done[0].data_version,
            persons=done[0].persons,
            key_fingerprint=new.fingerprint(),
        ),
    )
    return report


def recover_number(keyer: SubjectKeyer, key: str, masked: str, last_year: int) -> str:
    """The 18-character number whose key under `keyer` is `key` and whose masked form is `masked`."""
    if len(masked) != 18 or masked[6:14] != "*" * 8 or not (masked[:6] + masked[14:17]).isdigit():
        raise RekeyRefused(f"masked form {masked!r} is not a masked 18-character identity number")
    prefix, sequence, check = masked[:6], masked[14:17], masked[17]
    if check not in _CHECK:
        raise RekeyRefused(f"masked form {masked!r} has no valid check character")
    known = _weighted(prefix, 0) + _weighted(sequence, 14)
    wanted = (_CHECK.index(check) - known) % 11
    # Likely birth years first, so a typical person costs a few thousand HMACs.
    for years in ((1900, last_year), (MIN_BIRTH_YEAR, 1899), (last_year + 1, 9999)):
        for date in _dates_by_remainder(*years)[wanted]:
            number = prefix + date + sequence + check
            if keyer.person_key(number) == key:
                return number
    # A code declared an organisation's that reads as a person's number is keyed like one
    # (checkd/ids.py maybe_person) without fitting the check: try the other remainders too.
    for years in ((1900, last_year), (MIN_BIRTH_YEAR, 1899), (last_year + 1, 9999)):
        for remainder, dates in enumerate(_dates_by_remainder(*years)):
            for date in dates if remainder != wanted else ():
                number = prefix + date + sequence + check
                if keyer.person_key(number) == key:
                    return number
    raise RekeyRefused(f"no identity number fits {masked!r} under the old secret")


def _weighted(digits: str, start: int) -> int:
    return sum(int(c) * w for c, w in zip(digits, _WEIGHTS[start : start + len(digits)], strict=False))


@cache
def _dates_by_remainder(first_year: int, last_year: int) -> tuple[tuple[str, ...], ...]:
    """Every YYYYMMDD in the years, grouped by its share of the check sum (mod 11)."""
    groups: list[list[str]] = [[] for _ in range(11)]
    for day in _days(first_year, last_year):
        text = day.strftime("%Y%m%d")
        groups[_weighted(text, 6) % 11].append(text)
    return tuple(tuple(group) for group in groups)


def _days(first_year: int, last_year: int) -> Iterator[dt.date]:
    if first_year > last_year:
        return
    day, end = dt.date(first_year, 1, 1), dt.date(last_year, 12, 31)
    while True:
        yield day
        if day == end:
            return
        day += dt.timedelta(days=1)
