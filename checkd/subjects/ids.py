"""Normalise, detect and validate Chinese subject identifiers (USCC, org code, IDs); stdlib only."""

from __future__ import annotations

import datetime as dt
import functools
import operator
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from checkd.model import SubjectType
from checkd.values import quick_init

__all__ = [
    "HMT_ADDRESS_CODES",
    "PERSON_KINDS",
    "PROVINCE_CODES",
    "USCC_ALPHABET",
    "USCC_REGISTRATION_AUTHORITIES",
    "IdKind",
    "Identifier",
    "IdentifierError",
    "business_reg_check_digit",
    "mask",
    "normalise",
    "org_code_check_char",
    "parse_identifier",
    "reads_as_person_number",
    "resident_15_to_18",
    "resident_check_char",
    "subject_type_of",
    "uscc_check_char",
]


class IdKind(StrEnum):
    """The kinds of subject identifier the daemon understands."""

    USCC = "uscc"  # 18-char Unified Social Credit Code (GB 32100-2015)
    ORG_CODE = "org_code"  # 9-char organisation code (GB 11714); input may be "XXXXXXXX-X"
    BUSINESS_REG_NO = "business_reg_no"  # 15-digit legacy registration number (GS 15-2006)
    RESIDENT_ID = "resident_id"  # 18-char resident identity number (GB 11643-1999)
    HMT_RESIDENCE_PERMIT = "hmt_residence_permit"  # HK/Macao/Taiwan residence permit
    FOREIGNER_PR_ID = "foreigner_pr_id"  # 2023 foreigner permanent-residence ID (starts with 9)


PERSON_KINDS = frozenset({IdKind.RESIDENT_ID, IdKind.HMT_RESIDENCE_PERMIT, IdKind.FOREIGNER_PR_ID})

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: no I, O, S, V, Z
USCC_REGISTRATION_AUTHORITIES = "123456789ANY"
HMT_ADDRESS_CODES = frozenset({"810000", "820000", "830000"})
MIN_BIRTH_YEAR = 1800
# First two digits of a resident's address code (GB/T 2260 provinces, Taiwan, Hong Kong, Macao).
PROVINCE_CODES = frozenset(
    {
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
        "83",
    }
)
# Whose residents' numbers carry a province-level address code (xx0000); elsewhere the city part is set.
_PROVINCE_LEVEL_ADDRESSES = frozenset({"71", "81", "82", "83"})
_LAST_PLAUSIBLE_BIRTH_YEAR = 2099  # reading a string as a person's number (the check itself has no maximum)

_DIGITS = "0123456789"
_ORG_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # value = index (A=10 ... Z=35)
_USCC_VALUE = {c: i for i, c in enumerate(USCC_ALPHABET)}
_USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))  # 1 3 9 27 19 26 16 17 20 ...
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
_RESIDENT_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_RESIDENT_CHECK = "10X98765432"
_DASHES = frozenset(
    "-\u00ad\u058a\u05be\u1400\u1806\u2010\u2011\u2012\u2013\u2014\u2015\u2043\u2212"
    "\u2e3a\u2e3b\u30fc\ufe58\ufe63\uff0d\uff70"
)
_AMBIGUOUS_15 = "ambiguous 15-digit number: declare id_type (resident_id or business_reg_no)"


class IdentifierError(ValueError):
    """Raised with .reason: a short human message naming what is wrong with an identifier."""

    reason: str

    def __init__(self, reason: str) -> None:
        """Keep the reason both as the message and as the .reason attribute."""
        super().__init__(reason)
        self.reason = reason


@quick_init
@dataclass(frozen=True, slots=True)
class Identifier:
    """A validated identifier in canonical form, with its kind and inferred subject type."""

    kind: IdKind
    value: str
    org_code: str
    subject_type: SubjectType
    warnings: tuple[str, ...] = ()
    # A USCC that also is, or reads as, a personal identity number (all digits, real address region
    # and birth date): it may be a (mistyped) person's number, so it is kept like one.
    maybe_person: bool = False

    @property
    def is_person(self) -> bool:
        """True for identity numbers of natural persons (resident, HMT permit, foreigner PR)."""
        return self.kind in PERSON_KINDS

    @property
    def personal(self) -> bool:
        """True when the value must never be stored, logged or answered in clear (keyed or masked)."""
        return self.is_person or self.maybe_person

    def masked(self) -> str:
        """The value safe for logs: personal numbers masked as '330402********1234', others unchanged."""
        return mask(self.value) if self.personal else self.value


# --------------------------------------------------------------------------- normalisation


def normalise(raw: str) -> str:
    """Full-width to half-width, drop all whitespace and dashes, upper-case."""
    if raw.isascii() and raw.isalnum():  # the usual input: NFKC and the filter change nothing
        return raw.upper()
    text = raw
    for _ in range(4):  # repeat to a fixed point: dropping blanks can re-order combining marks
        step = unicodedata.normalize("NFKC", text)
        step = "".join(c for c in step if not c.isspace() and c not in _DASHES).upper()
        if step == text:
            break
        text = step
    return text


# --------------------------------------------------------------------------- check characters


@functools.cache
def _charset(allowed: str) -> frozenset[str]:
    return frozenset(allowed)


def _first_bad(text: str, allowed: str, offset: int = 0) -> IdentifierError | None:
    if _charset(allowed).issuperset(text):  # one C-level pass for the usual, valid input
        return None
    for i, c in enumerate(text):
        if c not in allowed:
            return IdentifierError(f"bad character {c!r} at position {i + 1 + offset}")
    return None


def _need(text: str, length: int, allowed: str) -> None:
    if len(text) != length:
        raise IdentifierError(f"bad length: {len(text)} characters, expected {length}")
    bad = _first_bad(text, allowed)
    if bad is not None:
        raise bad


def uscc_check_char(first17: str) -> str:
    """The GB 32100 check character for the first 17 characters of a USCC."""
    _need(first17, 17, USCC_ALPHABET)
    # map over C functions, not a generator: _need has fixed the length and the characters.
    total = sum(map(operator.mul, map(_USCC_VALUE.__getitem__, first17), _USCC_WEIGHTS))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def org_code_check_char(body8: str) -> str:
    """The GB 11714 check character for an 8-character organisation code body."""
    _need(body8, 8, _ORG_ALPHABET)
    total = sum(map(operator.mul, map(_ORG_ALPHABET.index, body8), _ORG_WEIGHTS))
    check = 11 - total % 11
    if check == 10:
        return "X"
    if check == 11:
        return "0"
    return str(check)


def resident_check_char(first17: str) -> str:
    """The GB 11643 check character (0-9 or X) for the first 17 digits of an identity number."""
    _need(first17, 17, _DIGITS)
    total = sum(map(operator.mul, map(int, first17), _RESIDENT_WEIGHTS))
    return _RESIDENT_CHECK[total % 11]


def business_reg_check_digit(first14: str) -> str:
    """The ISO 7064 MOD 11,10 (GB/T 17710) check digit for a 14-digit registration number."""
    _need(first14, 14, _DIGITS)
    product = 10
    for c in first14:
        s = (product + int(c)) % 10 or 10
        product = (2 * s) % 11
    return str((11 - product) % 10)


def _authority_ok(first: str) -> bool:
    return len(first) == 1 and first in USCC_REGISTRATION_AUTHORITIES


# --------------------------------------------------------------------------- persons


def _check_birth_date(yyyymmdd: str) -> None:
    try:
        born = dt.date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        raise IdentifierError(f"impossible birth date {yyyymmdd}") from None
    if born.year < MIN_BIRTH_YEAR:
        raise IdentifierError(f"impossible birth date {yyyymmdd} (year before {MIN_BIRTH_YEAR})")


def resident_15_to_18(id15: str) -> str:
    """Convert a 15-digit legacy identity number to 18 digits ('19' before the date + check)."""
    _need(id15, 15, _DIGITS)
    _check_birth_date("19" + id15[6:12])
    first17 = id15[:6] + "19" + id15[6:]
    return first17 + resident_check_char(first17)


def _person_kind_of(value: str) -> IdKind:
    if value[:6] in HMT_ADDRESS_CODES:
        return IdKind.HMT_RESIDENCE_PERMIT
    if value[0] == "9":
        return IdKind.FOREIGNER_PR_ID
    return IdKind.RESIDENT_ID


def _validate_person18(value: str) -> IdKind:
    """Validate an 18-character person number; return the person kind its shape implies."""
    if len(value) != 18:
        raise IdentifierError(f"bad length: {len(value)} characters, expected 18")
    bad = _first_bad(value[:17], _DIGITS) or _first_bad(value[17], _DIGITS + "X", offset=17)
    if bad is not None:
        raise bad
    _check_birth_date(value[6:14])
    expected = resident_check_char(value[:17])
    if value[17] != expected:
        raise IdentifierError(f"bad check character: expected {expected}, got {value[17]}")
    return _person_kind_of(value)


def reads_as_person_number(value: str) -> bool:
    """True when 18 characters read as a personal identity number whatever their check character.

    That is: 17 digits, a real address region (a province code, and below province level a city
    part, or the province code after the leading 9 of a foreigner's permanent-residence ID) and
    a real birth date. Such a string that fails its check is most likely a mistyped person's
    number, even when it happens to pass as a USCC.
    """
    if len(value) != 18 or not value.isascii() or not value[:17].isdigit():
        return False
    if value[0] == "9":
        region_ok = value[1:3] in PROVINCE_CODES
    else:
        region_ok = value[:2] in PROVINCE_CODES and (
            value[:2] in _PROVINCE_LEVEL_ADDRESSES or value[2:4] != "00"
        )
    if not region_ok or int(value[6:10]) > _LAST_PLAUSIBLE_BIRTH_YEAR:
        return False
    try:
        _check_birth_date(value[6:14])
    except IdentifierError:
        return False
    return True


def _person(value: str, kind: IdKind, warnings: tuple[str, ...] = ()) -> Identifier:
    return Identifier(kind, value, "", SubjectType.PERSON, warnings)


# --------------------------------------------------------------------------- organisations


def _org_code_problem(code: str) -> str | None:
    """None when a 9-character organisation code passes GB 11714, else why not."""
    bad = _first_bad(code[:8], _ORG_ALPHABET) or _first_bad(code[8], _DIGITS + "X", offset=8)
    if bad is not None:
        return bad.reason
    expected = org_code_check_char(code[:8])
    if code[8] != expected:
        return f"bad check character: expected {expected}, got {code[8]}"
    return None


def _validate_uscc(value: str) -> tuple[str, ...]:
    """Validate a USCC; return warnings (embedded organisation code failing GB 11714)."""
    if len(value) != 18:
        raise IdentifierError(f"bad length: {len(value)} characters, expected 18")
    bad = _first_bad(value, USCC_ALPHABET)
    if bad is not None:
        raise bad
    if not _authority_ok(value[0]):
        raise IdentifierError(
            f"bad registration authority {value[0]!r} at position 1, expected 1-9, A, N or Y"
        )
    expected = uscc_check_char(value[:17])
    if value[17] != expected:
        raise IdentifierError(f"bad check character: expected {expected}, got {value[17]}")
    problem = _org_code_problem(value[8:17])
    if problem is None:
        return ()
    return (f"embedded organisation code {value[8:17]} fails GB 11714: {problem}",)


def _passes_as_person(value: str) -> bool:
    try:
        _validate_person18(value)
    except IdentifierError:
        return False
    return True


def _uscc(value: str, warnings: tuple[str, ...]) -> Identifier:
    # A code that is, or reads as, a person's number: keep nothing of it in clear, not even the
    # embedded organisation code (9 of its digits).
    if value[:17].isdigit() and (reads_as_person_number(value) or _passes_as_person(value)):
        return Identifier(
            IdKind.USCC, value, "", subject_type_of(IdKind.USCC, value), warnings, maybe_person=True
        )
    return Identifier(IdKind.USCC, value, value[8:17], subject_type_of(IdKind.USCC, value), warnings)


def _validate_org_code(value: str) -> None:
    if len(value) != 9:
        raise IdentifierError(f"bad length: {len(value)} characters, expected 9")
    problem = _org_code_problem(value)
    if problem is not None:
        raise IdentifierError(problem)


def _business_reg_problem(value: str) -> str | None:
    """None when 15 digits pass ISO 7064 MOD 11,10, else why not."""
    expected = business_reg_check_digit(value[:14])
    if value[14] != expected:
        return f"bad check character: expected {expected}, got {value[14]}"
    return None


def _legacy_date_problem(value: str) -> str | None:
    try:
        _check_birth_date("19" + value[6:12])
    except IdentifierError as exc:
        return exc.reason
    return None


# --------------------------------------------------------------------------- parsing


def _parse_declared(value: str, kind: IdKind) -> Identifier:
    if kind is IdKind.USCC:
        return _uscc(value, _validate_uscc(value))
    if kind is IdKind.ORG_CODE:
        _validate_org_code(value)
        return Identifier(kind, value, value, SubjectType.ENTERPRISE)
    if kind is IdKind.BUSINESS_REG_NO:
        _need(value, 15, _DIGITS)
        problem = _business_reg_problem(value)
        if problem is not None:
            raise IdentifierError(problem)
        return Identifier(kind, value, "", SubjectType.ENTERPRISE)
    if kind is IdKind.RESIDENT_ID and len(value) == 15:
        return _person(resident_15_to_18(value), kind, ("converted from 15-digit legacy number",))
    if kind is IdKind.RESIDENT_ID and len(value) not in (15, 18):
        raise IdentifierError(f"bad length: {len(value)} characters, expected 18 or 15")
    found = _validate_person18(value)
    if found is not kind:
        raise IdentifierError(f"declared {kind.value} but the number is a {found.value}")
    return _person(value, kind)


def _parse_18(value: str) -> Identifier:
    person_shaped = value.isascii() and value[:17].isdigit() and value[17] in _DIGITS + "X"
    if not person_shaped:
        return _uscc(value, _validate_uscc(value))
    try:
        return _person(value, _validate_person18(value))
    except IdentifierError as person_error:
        if reads_as_person_number(value):
            # A person's number with a typo must not pass as an organisation's code.
            kind = _person_kind_of(value).value
            raise IdentifierError(
                f"not a valid {kind} ({person_error.reason}); an organisation's code that reads as "
                "a personal number must be declared (id_type uscc or an organisation subject_type)"
            ) from None
        try:
            warnings = _validate_uscc(value)
        except IdentifierError as uscc_error:
            kind = _person_kind_of(value).value
            raise IdentifierError(
                f"not a valid {kind} ({person_error.reason}) nor uscc ({uscc_error.reason})"
            ) from None
        return _uscc(value, warnings)


def _parse_15(value: str) -> Identifier:
    bad = _first_bad(value, _DIGITS)
    if bad is not None:
        raise bad
    date_problem = _legacy_date_problem(value)
    reg_problem = _business_reg_problem(value)
    if date_problem is None and reg_problem is None:
        raise IdentifierError(_AMBIGUOUS_15)
    if date_problem is None:
        return _person(
            resident_15_to_18(value), IdKind.RESIDENT_ID, ("converted from 15-digit legacy number",)
        )
    if reg_problem is None:
        return Identifier(IdKind.BUSINESS_REG_NO, value, "", SubjectType.ENTERPRISE)
    raise IdentifierError(
        f"not a valid 15-digit resident_id ({date_problem}) nor business_reg_no ({reg_problem})"
    )


def _kind_for_type(value: str, subject_type: SubjectType) -> IdKind | None:
    """The kind a declared subject type settles for an all-digit number, None when it settles none.

    A declared person's 15 digits are a legacy resident ID, an organisation's a registration
    number; 18 person-shaped characters are an organisation's USCC, or a person's number.
    """
    person = subject_type is SubjectType.PERSON
    if len(value) == 15 and value.isascii() and value.isdigit():
        return IdKind.RESIDENT_ID if person else IdKind.BUSINESS_REG_NO
    if len(value) == 18 and value.isascii() and value[:17].isdigit() and value[17] in _DIGITS + "X":
        return _person_kind_of(value) if person else IdKind.USCC
    return None


def parse_identifier(
    raw: str, declared: IdKind | None = None, subject_type: SubjectType | None = None
) -> Identifier:
    """Normalise, detect the kind (unless declared) and validate; raise IdentifierError.

    `subject_type` is what the caller declared the subject to be (a person for every role other
    than the subject itself); it settles the numbers that are ambiguous without it.
    """
    value = normalise(raw)
    if not value:
        raise IdentifierError("empty")
    if declared is not None:
        return _parse_declared(value, IdKind(declared))
    settled = None if subject_type is None else _kind_for_type(value, SubjectType(subject_type))
    if settled is not None:
        return _parse_declared(value, settled)
    if len(value) == 18:
        return _parse_18(value)
    if len(value) == 15:
        return _parse_15(value)
    if len(value) == 9:
        _validate_org_code(value)
        return Identifier(IdKind.ORG_CODE, value, value, SubjectType.ENTERPRISE)
    raise IdentifierError(f"bad length: {len(value)} characters, expected 18, 15 or 9")


# --------------------------------------------------------------------------- subject type, masking


def subject_type_of(identifier_kind: IdKind, value: str) -> SubjectType:
    """Infer the subject type: persons; USCC 11 agency, 12 institution, 13/5x/7x/8x social org."""
    if identifier_kind in PERSON_KINDS:
        return SubjectType.PERSON
    if identifier_kind is not IdKind.USCC:
        return SubjectType.ENTERPRISE  # org code / registration number cannot tell
    head = value[:2].upper()
    if head == "11":
        return SubjectType.GOVERNMENT_AGENCY
    if head == "12":
        return SubjectType.PUBLIC_INSTITUTION
    if head == "13" or head[:1] in ("5", "7", "8"):
        return SubjectType.SOCIAL_ORGANISATION
    return SubjectType.ENTERPRISE


def mask(value: str) -> str:
    """Mask an identity number: first 6 + '*' * 8 + last 4 (always >= 8 hidden, length kept)."""
    n = len(value)
    if n < 10:
        return "*" * n
    hidden = max(8, n - 10)
    visible = n - hidden
    tail = min(4, visible // 2)
    head = visible - tail
    return value[:head] + "*" * hidden + value[n - tail :]
