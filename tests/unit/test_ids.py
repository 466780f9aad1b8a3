"""Identifier normalisation and validation: standard examples, generated and dirty input."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from checkd.model import SubjectType
from checkd.subjects.ids import (
    HMT_ADDRESS_CODES,
    USCC_ALPHABET,
    IdentifierError,
    IdKind,
    business_reg_check_digit,
    mask,
    normalise,
    org_code_check_char,
    parse_identifier,
    reads_as_person_number,
    resident_15_to_18,
    resident_check_char,
    subject_type_of,
    uscc_check_char,
)

MAIN = settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])

DIGITS = "0123456789"
ORG_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
USCC_AUTHORITIES = "123456789ANY"
OUTSIDE_USCC = "IOSVZ#"
PERSON_KINDS = (IdKind.RESIDENT_ID, IdKind.HMT_RESIDENCE_PERMIT, IdKind.FOREIGNER_PR_ID)

# ----------------------------------------------------------------------------------------------
# Reusable hypothesis strategies: each yields a canonical, valid identifier of one kind.
# ----------------------------------------------------------------------------------------------


def _text(alphabet: str, size: int) -> st.SearchStrategy[str]:
    return st.text(alphabet=alphabet, min_size=size, max_size=size)


@st.composite
def org_codes(draw: st.DrawFn, alphabet: str = ORG_ALPHABET) -> str:
    """A 9-character GB 11714 organisation code (body from `alphabet`, correct check char)."""
    body = draw(_text(alphabet, 8))
    return body + org_code_check_char(body)


@st.composite
def usccs(
    draw: st.DrawFn,
    authorities: str = USCC_AUTHORITIES,
    digits_only: bool = False,
    good_org_code: bool = True,
) -> str:
    """An 18-character USCC with any registration authority (1-9, A, N, Y) and right check."""
    chars = DIGITS if digits_only else USCC_ALPHABET
    first = draw(st.sampled_from(authorities))
    kind = draw(st.sampled_from(chars))
    division = draw(_text(DIGITS, 6))
    embedded = draw(org_codes(chars))
    if not good_org_code:
        wrong = [c for c in DIGITS + "X" if c != embedded[8] and (c in chars)]
        embedded = embedded[:8] + draw(st.sampled_from(wrong))
    first17 = first + kind + division + embedded
    value = first17 + uscc_check_char(first17)
    assume(not digits_only or value.isdigit())
    return value


def business_reg_nos() -> st.SearchStrategy[str]:
    """A 15-digit legacy business registration number with its MOD 11,10 check digit."""
    return _text(DIGITS, 14).map(lambda s: s + business_reg_check_digit(s))


def birth_dates(lo: int = 1800, hi: int = 2099) -> st.SearchStrategy[dt.date]:
    """Real calendar dates between the given years (inclusive)."""
    return st.dates(dt.date(lo, 1, 1), dt.date(hi, 12, 31))


def _person(address: str, born: dt.date, seq: str) -> str:
    first17 = address + born.strftime("%Y%m%d") + seq
    return first17 + resident_check_char(first17)


def resident_addresses() -> st.SearchStrategy[str]:
    """6-digit mainland address codes (first digit 1-8, never an HMT permit code)."""
    return st.builds(lambda a, b: a + b, st.sampled_from("12345678"), _text(DIGITS, 5)).filter(
        lambda a: a not in HMT_ADDRESS_CODES
    )


def resident_ids(lo: int = 1800, hi: int = 2099) -> st.SearchStrategy[str]:
    """An 18-character resident identity number (check char may be X)."""
    return st.builds(_person, resident_addresses(), birth_dates(lo, hi), _text(DIGITS, 3))


def legacy_resident_ids() -> st.SearchStrategy[str]:
    """A 15-digit pre-1999 identity number (address, YYMMDD of a 19xx birth, sequence)."""
    return st.builds(
        lambda a, d, s: a + d.strftime("%y%m%d") + s,
        resident_addresses(),
        birth_dates(1900, 1999),
        _text(DIGITS, 3),
    )


def hmt_permits() -> st.SearchStrategy[str]:
    """A Hong Kong / Macao / Taiwan residence permit number (address 810000/820000/830000)."""
    return st.builds(_person, st.sampled_from(sorted(HMT_ADDRESS_CODES)), birth_dates(), _text(DIGITS, 3))


def foreigner_pr_ids() -> st.SearchStrategy[str]:
    """A 2023 foreigner permanent-residence ID: 18 characters starting with 9, GB 11643 check."""
    return st.builds(_person, _text(DIGITS, 5).map(lambda s: "9" + s), birth_dates(), _text(DIGITS, 3))


def person_ids() -> st.SearchStrategy[tuple[IdKind, str]]:
    """Any 18-character person number, tagged with its kind."""
    return st.one_of(
        resident_ids().map(lambda v: (IdKind.RESIDENT_ID, v)),
        hmt_permits().map(lambda v: (IdKind.HMT_RESIDENCE_PERMIT, v)),
        foreigner_pr_ids().map(lambda v: (IdKind.FOREIGNER_PR_ID, v)),
    )


def identifiers() -> st.SearchStrategy[tuple[IdKind, str, str]]:
    """(kind, input, canonical value) for every kind, incl. legacy 15-digit resident IDs."""
    return st.one_of(
        usccs().map(lambda v: (IdKind.USCC, v, v)),
        usccs(digits_only=True).map(lambda v: (IdKind.USCC, v, v)),
        org_codes().map(lambda v: (IdKind.ORG_CODE, v, v)),
        business_reg_nos().map(lambda v: (IdKind.BUSINESS_REG_NO, v, v)),
        resident_ids().map(lambda v: (IdKind.RESIDENT_ID, v, v)),
        legacy_resident_ids().map(lambda v: (IdKind.RESIDENT_ID, v, resident_15_to_18(v))),
        hmt_permits().map(lambda v: (IdKind.HMT_RESIDENCE_PERMIT, v, v)),
        foreigner_pr_ids().map(lambda v: (IdKind.FOREIGNER_PR_ID, v, v)),
    )


_BLANKS = [" ", "\t", "\u3000", "\u00a0", "\n"]
_SEPARATORS = ["", "", "", " ", "\u3000", "-", "\uff0d", "\u2010", "\u2013", "\u2014", "\t"]


def _full_width(c: str) -> str:
    return chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c


@st.composite
def dirty(draw: st.DrawFn, canonical: str) -> str:
    """A messy rendering of `canonical`: full-width, lower case, inner blanks/hyphens, padding."""
    out = [draw(st.sampled_from(["", *_BLANKS]))]
    for i, c in enumerate(canonical):
        ch = c.lower() if draw(st.booleans()) else c
        ch = _full_width(ch) if draw(st.booleans()) else ch
        if i:
            out.append(draw(st.sampled_from(_SEPARATORS)))
        out.append(ch)
    out.append(draw(st.sampled_from(["", *_BLANKS])))
    return "".join(out)


# Independent oracles (written from the standards, not by calling checkd.ids internals).


def _real_date(yyyymmdd: str) -> bool:
    try:
        return dt.date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:])).year >= 1800
    except ValueError:
        return False


def _person_valid(v: str) -> bool:
    return bool(re.fullmatch(r"\d{17}[\dX]", v)) and (
        _real_date(v[6:14]) and resident_check_char(v[:17]) == v[17]
    )


def _person_kind(v: str) -> IdKind:
    if v[:6] in HMT_ADDRESS_CODES:
        return IdKind.HMT_RESIDENCE_PERMIT
    return IdKind.FOREIGNER_PR_ID if v[0] == "9" else IdKind.RESIDENT_ID


# ----------------------------------------------------------------------------------------------
# Known-good examples from the standards and the domain brief
# ----------------------------------------------------------------------------------------------

KNOWN_GOOD = [
    # raw input, declared, expected kind, canonical value
    ("91350100M000100Y43", None, IdKind.USCC, "91350100M000100Y43"),
    ("91350100m000100y43", None, IdKind.USCC, "91350100M000100Y43"),
    ("９１３５０１００Ｍ０００１００Ｙ４３", None, IdKind.USCC, "91350100M000100Y43"),
    ("91350100-M000100Y4-3", None, IdKind.USCC, "91350100M000100Y43"),
    (" 9135 0100-M000 100Y4-3\u3000", None, IdKind.USCC, "91350100M000100Y43"),
    ("11010519491231002X", None, IdKind.RESIDENT_ID, "11010519491231002X"),
    ("11010519491231002x", None, IdKind.RESIDENT_ID, "11010519491231002X"),
    ("440524188001010014", None, IdKind.RESIDENT_ID, "440524188001010014"),
    ("110105491231002", IdKind.RESIDENT_ID, IdKind.RESIDENT_ID, "11010519491231002X"),
    ("D2143569-X", None, IdKind.ORG_CODE, "D2143569X"),
    ("M000100Y4", None, IdKind.ORG_CODE, "M000100Y4"),
    ("110108000000016", None, IdKind.BUSINESS_REG_NO, "110108000000016"),
    ("A1330100MA2B3C4D19", None, IdKind.USCC, "A1330100MA2B3C4D19"),
    ("N2330402MA28A1B21H", None, IdKind.USCC, "N2330402MA28A1B21H"),
    ("N13304240726512321", None, IdKind.USCC, "N13304240726512321"),
    ("Y1330100MA2CXY0L6J", None, IdKind.USCC, "Y1330100MA2CXY0L6J"),
    ("913301001000000168", None, IdKind.USCC, "913301001000000168"),
    ("330402199001010000", IdKind.USCC, IdKind.USCC, "330402199001010000"),
    ("330402199001010000", None, IdKind.RESIDENT_ID, "330402199001010000"),
    ("913301199001010034", None, IdKind.FOREIGNER_PR_ID, "913301199001010034"),
    ("913301199001010034", IdKind.USCC, IdKind.USCC, "913301199001010034"),
]


@pytest.mark.parametrize(("raw", "declared", "kind", "value"), KNOWN_GOOD)
def test_known_good_examples(raw: str, declared: IdKind | None, kind: IdKind, value: str) -> None:
    """Worked examples from GB 32100, GB 11714, GS 15, GB 11643 and the brief are accepted."""
    ident = parse_identifier(raw, declared)
    assert (ident.kind, ident.value) == (kind, value)


def test_check_character_worked_examples() -> None:
    """Each check-character function reproduces its standard's published example."""
    assert uscc_check_char("91350100M000100Y4") == "3"  # GB 32100: sum 1640, 31 - 28 = 3
    assert org_code_check_char("M000100Y") == "4"
    assert org_code_check_char("D2143569") == "X"  # GB 11714 example, remainder 10 -> X
    assert org_code_check_char("00000000") == "0"  # remainder 11 -> 0, never 'B'
    assert resident_check_char("11010519491231002") == "X"
    assert resident_check_char("44052418800101001") == "4"
    assert business_reg_check_digit("11010800000001") == "6"  # GS 15-2006 example


def test_uscc_check_uses_powers_of_three_mod_31_not_mod_11() -> None:
    """Guards the tutorial trap: USCC weights are 3^(i-1) mod 31 and the modulus is 31."""
    weights = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28]
    first17 = "91350100M000100Y4"
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, weights, strict=True))
    assert total == 1640
    assert uscc_check_char(first17) == USCC_ALPHABET[(31 - total % 31) % 31]


def test_uscc_fields() -> None:
    """A USCC exposes its embedded organisation code and infers the enterprise subject type."""
    ident = parse_identifier("91350100M000100Y43")
    assert ident.org_code == "M000100Y4"
    assert ident.subject_type is SubjectType.ENTERPRISE
    assert not ident.is_person
    assert ident.masked() == "91350100M000100Y43"
    assert ident.warnings == ()


def test_org_code_exposes_itself_as_org_code() -> None:
    """A bare organisation code carries itself as org_code so the USCC cross-walk can use it."""
    ident = parse_identifier("M000100Y-4")
    assert ident.org_code == "M000100Y4" == parse_identifier("91350100M000100Y43").org_code


def test_person_fields() -> None:
    """A person number is a person subject, has no org code and masks its middle."""
    ident = parse_identifier("11010519491231002x")
    assert ident.is_person
    assert ident.subject_type is SubjectType.PERSON
    assert ident.org_code == ""
    assert ident.masked() == "110105********002X"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("113304000028001839", SubjectType.GOVERNMENT_AGENCY),
        ("123300004700123489", SubjectType.PUBLIC_INSTITUTION),
        ("13330000501234569W", SubjectType.SOCIAL_ORGANISATION),
        ("51330100MJ9876542M", SubjectType.SOCIAL_ORGANISATION),
        ("52330400MJ9123452Y", SubjectType.SOCIAL_ORGANISATION),
        ("59330100MJ1234561D", SubjectType.SOCIAL_ORGANISATION),
        ("71330100501234577W", SubjectType.SOCIAL_ORGANISATION),
        ("81330100712345672J", SubjectType.SOCIAL_ORGANISATION),
        ("31330000E123456735", SubjectType.ENTERPRISE),
        ("91330100123456788G", SubjectType.ENTERPRISE),
        ("93330421MA2BCD0E6P", SubjectType.ENTERPRISE),
        ("A1330100MA2B3C4D19", SubjectType.ENTERPRISE),
        ("N2330402MA28A1B21H", SubjectType.ENTERPRISE),
        ("Y1330100MA2CXY0L6J", SubjectType.ENTERPRISE),
    ],
)
def test_subject_type_from_uscc_prefix(value: str, expected: SubjectType) -> None:
    """USCC positions 1-2 map to subject types: 11, 12, 13/5x/7x/8x, everything else enterprise."""
    assert subject_type_of(IdKind.USCC, value) is expected
    assert parse_identifier(value).subject_type is expected


def test_subject_type_of_non_uscc_kinds() -> None:
    """Persons are persons; org codes and registration numbers cannot tell, so enterprise."""
    for kind in PERSON_KINDS:
        assert subject_type_of(kind, "11010519491231002X") is SubjectType.PERSON
    assert subject_type_of(IdKind.ORG_CODE, "D2143569X") is SubjectType.ENTERPRISE
    assert subject_type_of(IdKind.BUSINESS_REG_NO, "110108000000016") is SubjectType.ENTERPRISE


# ----------------------------------------------------------------------------------------------
# Normalisation
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("９１３５０１００Ｍ０００１００Ｙ４３", "91350100M000100Y43"),
        ("\u3000 d2143569－x \t", "D2143569X"),
        ("1101\u00a005‐1949–1231—002ｘ", "11010519491231002X"),
        ("  ", ""),
        ("a-b c", "ABC"),
    ],
)
def test_normalise(raw: str, expected: str) -> None:
    """Full-width, ideographic spaces, dash variants and lower case all normalise away."""
    assert normalise(raw) == expected


@given(st.text())
@settings(max_examples=200, deadline=None)
def test_normalise_is_idempotent(raw: str) -> None:
    """Normalising twice changes nothing, so stored and queried keys agree."""
    once = normalise(raw)
    assert normalise(once) == once
    assert not any(c.isspace() for c in once)


# ----------------------------------------------------------------------------------------------
# Main properties over generated identifiers of every kind
# ----------------------------------------------------------------------------------------------


@given(st.data(), identifiers())
@MAIN
def test_dirty_rendering_parses_to_canonical_when_declared(
    data: st.DataObject, generated: tuple[IdKind, str, str]
) -> None:
    """Any messy rendering of a valid identifier, declared, parses back to its canonical value."""
    kind, raw, canonical = generated
    event(f"{kind.value} ({len(raw)} chars)")
    messy = data.draw(dirty(raw), label="messy")
    ident = parse_identifier(messy, kind)
    assert (ident.kind, ident.value) == (kind, canonical)
    assert parse_identifier(normalise(messy), kind) == ident


@given(st.data(), identifiers())
@MAIN
def test_dirty_rendering_detected_without_declaration(
    data: st.DataObject, generated: tuple[IdKind, str, str]
) -> None:
    """Undeclared detection follows the documented rules, including the ambiguous 15-digit case."""
    kind, raw, canonical = generated
    messy = data.draw(dirty(raw), label="messy")
    if len(raw) == 15:
        as_person = _real_date("19" + raw[6:12])
        as_reg = business_reg_check_digit(raw[:14]) == raw[14]
        if as_person and as_reg:
            with pytest.raises(IdentifierError, match="ambiguous 15-digit number"):
                parse_identifier(messy)
            event(f"{kind.value} ambiguous")
            return
        expected = IdKind.RESIDENT_ID if as_person else IdKind.BUSINESS_REG_NO
    elif kind is IdKind.USCC and _person_valid(raw):
        expected = _person_kind(raw)  # an all-digit string that passes both: person wins
    elif kind is IdKind.USCC and raw[17] in DIGITS + "X" and reads_as_person_number(raw):
        with pytest.raises(IdentifierError, match="bad check character"):
            parse_identifier(messy)  # it reads as a mistyped person's number: declare it
        event("uscc read as a mistyped person number")
        return
    else:
        expected = kind
    ident = parse_identifier(messy)
    event(f"{kind.value} detected as {ident.kind.value}")
    assert (ident.kind, ident.value) == (expected, canonical)


@st.composite
def person_and_uscc(draw: st.DrawFn) -> str:
    """An all-digit 18-character string valid both as a person number and as a USCC."""
    head = draw(st.sampled_from("12345678")) + draw(_text(DIGITS, 5))
    stem = head + draw(birth_dates()).strftime("%Y%m%d") + draw(_text(DIGITS, 1))
    for seq in range(100):
        first17 = f"{stem}{seq:02d}"
        check = resident_check_char(first17)
        if check != "X" and uscc_check_char(first17) == check:
            return first17 + check
    assume(False)
    raise AssertionError("unreachable")


def ambiguous_15_digit_numbers() -> st.SearchStrategy[str]:
    """A legacy identity number whose last sequence digit is also its MOD 11,10 check digit."""
    return legacy_resident_ids().map(lambda v: v[:14] + business_reg_check_digit(v[:14]))


@given(ambiguous_15_digit_numbers())
@MAIN
def test_ambiguous_15_digit_numbers_need_a_declaration(value: str) -> None:
    """Property: 15 digits valid both ways are refused undeclared and honoured when declared."""
    with pytest.raises(IdentifierError, match=r"^ambiguous 15-digit number"):
        parse_identifier(value)
    assert parse_identifier(value, IdKind.RESIDENT_ID).value == resident_15_to_18(value)
    assert parse_identifier(value, IdKind.BUSINESS_REG_NO).value == value


@given(person_and_uscc())
@MAIN
def test_18_digits_valid_both_ways_prefer_person_unless_declared(value: str) -> None:
    """Property: undeclared, a both-valid 18-digit string is a person; declared USCC wins, kept masked."""
    assert parse_identifier(value).kind is _person_kind(value)
    ident = parse_identifier(value, IdKind.USCC)
    assert ident.kind is IdKind.USCC and ident.maybe_person and ident.personal
    # It reads as a person's number: neither it nor its embedded code is kept in clear.
    assert ident.org_code == "" and ident.masked() == mask(value) != value


@given(st.sampled_from(USCC_AUTHORITIES).flatmap(lambda a: usccs(authorities=a)))
@MAIN
def test_every_registration_authority_is_accepted(value: str) -> None:
    """USCCs from every registration authority, incl. A (military), N and Y, are valid."""
    ident = parse_identifier(value, IdKind.USCC)
    event(f"authority {value[0]}")
    assert ident.value == value
    assert ident.org_code == value[8:17]
    assert ident.warnings == ()


@given(usccs(good_org_code=False))
@settings(max_examples=200, deadline=None)
def test_bad_embedded_org_code_is_a_warning_not_a_rejection(value: str) -> None:
    """A USCC whose embedded GB 11714 code fails its check is accepted with a warning."""
    ident = parse_identifier(value, IdKind.USCC)
    assert ident.value == value
    assert len(ident.warnings) == 1
    assert value[8:17] in ident.warnings[0]


# ----------------------------------------------------------------------------------------------
# Single-character substitutions are always caught
# ----------------------------------------------------------------------------------------------


def _substitutions(value: str, alphabet: str) -> list[str]:
    return [value[:i] + c + value[i + 1 :] for i in range(len(value)) for c in alphabet if c != value[i]]


@pytest.mark.parametrize(
    "value",
    ["91350100M000100Y43", "A1330100MA2B3C4D19", "N13304240726512321", "Y1330100MA2CXY0L6J"],
)
def test_every_substitution_of_known_uscc_is_rejected(value: str) -> None:
    """Exhaustive: all 18 x 30 in-alphabet and the out-of-alphabet substitutions are rejected."""
    variants = _substitutions(value, USCC_ALPHABET + OUTSIDE_USCC)
    assert len(variants) == 18 * (30 + len(OUTSIDE_USCC))
    for variant in variants:
        with pytest.raises(IdentifierError):
            parse_identifier(variant, IdKind.USCC)


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("11010519491231002X", IdKind.RESIDENT_ID),
        ("440524188001010014", IdKind.RESIDENT_ID),
        ("810000199001010000", IdKind.HMT_RESIDENCE_PERMIT),
        ("913301199001010034", IdKind.FOREIGNER_PR_ID),
    ],
)
def test_every_substitution_of_known_person_id_is_rejected(value: str, kind: IdKind) -> None:
    """Exhaustive: every one-character change of a person number fails when declared."""
    value = value[:17] + resident_check_char(value[:17])
    for variant in _substitutions(value, DIGITS + "X"):
        with pytest.raises(IdentifierError):
            parse_identifier(variant, kind)


@given(usccs(), st.integers(0, 17), st.sampled_from(USCC_ALPHABET + OUTSIDE_USCC))
@MAIN
def test_substituted_uscc_is_rejected(value: str, pos: int, char: str) -> None:
    """Property: a one-character change anywhere in a generated USCC is caught."""
    assume(value[pos] != char)
    with pytest.raises(IdentifierError):
        parse_identifier(value[:pos] + char + value[pos + 1 :], IdKind.USCC)


@given(person_ids(), st.integers(0, 17), st.sampled_from(DIGITS + "X"))
@MAIN
def test_substituted_person_id_is_rejected(generated: tuple[IdKind, str], pos: int, char: str) -> None:
    """Property: a one-char change is caught when declared; undeclared never yields a person."""
    kind, value = generated
    assume(value[pos] != char)
    variant = value[:pos] + char + value[pos + 1 :]
    with pytest.raises(IdentifierError):
        parse_identifier(variant, kind)
    try:
        ident = parse_identifier(variant)
    except IdentifierError:
        return
    assert ident.kind is IdKind.USCC  # only the documented all-digit USCC fallback may accept


# ----------------------------------------------------------------------------------------------
# Dates, legacy numbers, rejection reasons
# ----------------------------------------------------------------------------------------------


@st.composite
def impossible_dates(draw: st.DrawFn) -> str:
    """An 8-digit YYYYMMDD that is not a real calendar date on or after 1800-01-01."""
    year = draw(st.integers(1800, 2099))
    how = draw(st.sampled_from(["month", "day", "old"]))
    if how == "month":
        month, day = draw(st.sampled_from([0, *range(13, 100)])), draw(st.integers(1, 28))
    elif how == "day":
        month = draw(st.integers(1, 12))
        last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
        day = draw(st.sampled_from([0, *range(last + 1, 100)]))
    else:
        born = draw(st.dates(dt.date(1000, 1, 1), dt.date(1799, 12, 31)))
        year, month, day = born.year, born.month, born.day
    return f"{year:04d}{month:02d}{day:02d}"


@pytest.mark.parametrize("date", ["19490231", "19491301", "19000229", "20230229", "19490000", "17991231"])
def test_impossible_birth_date_named_in_reason(date: str) -> None:
    """Impossible dates (Feb 31, month 13, 1900-02-29, day 0, before 1800) are rejected by name."""
    first17 = "110105" + date + "002"
    value = first17 + resident_check_char(first17)
    with pytest.raises(IdentifierError) as info:
        parse_identifier(value, IdKind.RESIDENT_ID)
    assert info.value.reason.startswith(f"impossible birth date {date}")


@given(st.sampled_from(["110105", "810000", "913301"]), impossible_dates(), _text(DIGITS, 3))
@MAIN
def test_generated_impossible_dates_rejected(address: str, date: str, seq: str) -> None:
    """Property: a person number with a correct check char but impossible date names the date."""
    first17 = address + date + seq
    value = first17 + resident_check_char(first17)
    with pytest.raises(IdentifierError) as info:
        parse_identifier(value, _person_kind(value))
    assert date in info.value.reason
    try:
        ident = parse_identifier(value)
    except IdentifierError as exc:
        assert date in exc.reason
    else:
        assert ident.kind is IdKind.USCC


def test_legacy_impossible_date_named_in_reason() -> None:
    """A 15-digit number declared resident_id with an impossible YYMMDD names the 19YY date."""
    with pytest.raises(IdentifierError, match="impossible birth date 19490231"):
        parse_identifier("110105490231002", IdKind.RESIDENT_ID)


def test_worked_15_to_18_conversion() -> None:
    """GB 11643's own example: 110105491231002 -> 11010519491231002X."""
    assert resident_15_to_18("110105491231002") == "11010519491231002X"


def test_standard_15_digit_example_is_ambiguous_unless_declared() -> None:
    """110105491231002 is also a valid MOD 11,10 number, so undeclared it must not be guessed."""
    with pytest.raises(IdentifierError) as info:
        parse_identifier("110105491231002")
    assert info.value.reason == (
        "ambiguous 15-digit number: declare id_type (resident_id or business_reg_no)"
    )
    assert parse_identifier("110105491231002", IdKind.RESIDENT_ID).value == "11010519491231002X"
    assert parse_identifier("110105491231002", IdKind.BUSINESS_REG_NO).kind is (IdKind.BUSINESS_REG_NO)


@given(resident_ids(1900, 1999))
@MAIN
def test_15_to_18_round_trip(value: str) -> None:
    """Property: 18 -> legacy 15 -> 18 returns the same number, both via the helper and parse."""
    legacy = value[:6] + value[8:17]
    assert resident_15_to_18(legacy) == value
    ident = parse_identifier(legacy, IdKind.RESIDENT_ID)
    assert ident.value == value
    assert ident.kind is IdKind.RESIDENT_ID


@pytest.mark.parametrize(
    ("raw", "declared", "reason"),
    [
        ("", None, "empty"),
        (" -\u3000", None, "empty"),
        ("91350100M000100Y4", None, "bad length: 17 characters, expected 18, 15 or 9"),
        ("91350100M000100Y4", IdKind.USCC, "bad length: 17 characters, expected 18"),
        ("1101051949123100", IdKind.RESIDENT_ID, "bad length: 16 characters, expected 18 or 15"),
        ("9135I100M000100Y43", None, "bad character 'I' at position 5"),
        ("91350100M000100Y44", None, "bad check character: expected 3, got 4"),
        ("11010519491231002Y", IdKind.RESIDENT_ID, "bad character 'Y' at position 18"),
        ("110105194912310021", IdKind.RESIDENT_ID, "bad check character: expected X, got 1"),
        ("D2143569-1", None, "bad check character: expected X, got 1"),
        ("110108000000017", IdKind.BUSINESS_REG_NO, "bad check character: expected 6, got 7"),
        ("B1350100M000100Y4F", None, "bad registration authority 'B' at position 1"),
        ("810000199001010000", IdKind.RESIDENT_ID, "declared resident_id but the number is a"),
        ("11010519491231002X", IdKind.HMT_RESIDENCE_PERMIT, "declared hmt_residence_permit"),
        ("11010519491231002X", IdKind.USCC, "bad check character"),
        ("91350100M000100Y43", IdKind.RESIDENT_ID, "bad character 'M' at position 9"),
    ],
)
def test_rejection_reasons_are_precise(raw: str, declared: IdKind | None, reason: str) -> None:
    """Each rejection names what is wrong: empty, length, character, check, authority, kind."""
    with pytest.raises(IdentifierError) as info:
        parse_identifier(raw, declared)
    assert info.value.reason.startswith(reason)
    assert isinstance(info.value, ValueError)
    assert str(info.value) == info.value.reason


def test_undeclared_18_digit_failing_both_names_both() -> None:
    """An all-digit 18-char string failing both checks, not reading as a person's, explains both readings."""
    with pytest.raises(IdentifierError) as info:
        parse_identifier("100105194912310021")  # no province 10: not a resident's address
    assert "resident_id (bad check character: expected 8, got 1)" in info.value.reason
    assert "uscc (" in info.value.reason


def _mistyped(person_id: str) -> str:
    """The number with a wrong check character that makes it a valid USCC (authority 3, type 3 here)."""
    return person_id[:17] + uscc_check_char(person_id[:17])


def test_a_mistyped_resident_id_never_passes_as_an_organisation() -> None:
    """Undeclared, a resident ID with a wrong check that happens to be a USCC is refused as a resident ID."""
    first17 = "33040219800101004"  # Jiaxing address, born 1980-01-01; as a USCC: authority 3, type 3
    typo = first17 + uscc_check_char(first17)  # 330402198001010041: its resident check character is 9
    assert typo.isdigit() and resident_check_char(first17) == "9"
    with pytest.raises(IdentifierError, match=r"not a valid resident_id \(bad check character: expected"):
        parse_identifier(typo)
    with pytest.raises(IdentifierError, match="bad check character"):
        parse_identifier(typo, subject_type=SubjectType.PERSON)
    for declared in ({"declared": IdKind.USCC}, {"subject_type": SubjectType.SOCIAL_ORGANISATION}):
        ident = parse_identifier(typo, **declared)  # type: ignore[arg-type]
        assert ident.kind is IdKind.USCC and ident.personal and ident.org_code == ""
        assert ident.masked() == typo[:6] + "*" * 8 + typo[14:]


# Most typos are filtered out: only some USCC check characters leave a number that reads as a
# person's, so the filter is the property's domain, not a slow strategy.
@given(resident_ids())
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
def test_a_mistyped_person_number_is_refused_or_kept_masked(value: str) -> None:
    """Property: a resident's number with a wrong check is refused undeclared, masked when declared a USCC."""
    typo = _mistyped(value)
    assume(typo != value and typo[0] in "123456789" and reads_as_person_number(typo))  # a real region
    if typo[17] in DIGITS + "X":  # all digits: refused; otherwise a USCC, but never shown in clear
        with pytest.raises(IdentifierError, match="bad check character"):
            parse_identifier(typo)
    else:
        assert parse_identifier(typo).personal
    try:
        ident = parse_identifier(typo, IdKind.USCC)
    except IdentifierError:
        return  # not a valid USCC either (e.g. a bad registration authority)
    assert ident.personal and value[6:14] not in ident.masked() and value[6:14] not in ident.org_code


def test_a_declared_person_with_15_digits_is_a_legacy_resident_id() -> None:
    """15 digits valid both ways are ambiguous undeclared, a resident ID for a person, a number for an org."""
    first14 = "33040280010100"  # address 330402, born 1980-01-01, sequence 00...
    value = first14 + business_reg_check_digit(first14)  # ...and a valid registration check digit
    with pytest.raises(IdentifierError, match="ambiguous 15-digit number"):
        parse_identifier(value)
    person = parse_identifier(value, subject_type=SubjectType.PERSON)
    assert person.kind is IdKind.RESIDENT_ID and person.value == resident_15_to_18(value)
    organisation = parse_identifier(value, subject_type=SubjectType.ENTERPRISE)
    assert organisation.kind is IdKind.BUSINESS_REG_NO and organisation.value == value


def test_declared_kind_may_be_plain_string() -> None:
    """A declared kind coming straight from a request string still works."""
    assert parse_identifier("D2143569X", "org_code").kind is IdKind.ORG_CODE  # type: ignore[arg-type]


# ----------------------------------------------------------------------------------------------
# Masking
# ----------------------------------------------------------------------------------------------


@given(person_ids())
@MAIN
def test_masking_never_shows_middle_eight(generated: tuple[IdKind, str]) -> None:
    """Property: a masked person number hides positions 7-14 (birth date) and keeps the rest."""
    _, value = generated
    masked = parse_identifier(value).masked()
    assert masked == mask(value)
    assert masked[6:14] == "*" * 8
    assert masked[:6] + masked[14:] == value[:6] + value[14:]


@given(st.text(alphabet=DIGITS + "X", max_size=30))
@settings(max_examples=300, deadline=None)
def test_mask_any_length(value: str) -> None:
    """mask() keeps the length and always hides at least 8 characters (all if shorter than 10)."""
    masked = mask(value)
    assert len(masked) == len(value)
    if len(value) < 10:
        assert masked == "*" * len(value)
    else:
        assert masked.count("*") >= 8
        assert "*" * 8 in masked


def test_organisation_masked_is_unchanged() -> None:
    """Organisation codes are public, so masked() returns them unchanged."""
    for raw in ("91350100M000100Y43", "D2143569X", "110108000000016"):
        ident = parse_identifier(raw, None if len(raw) != 15 else IdKind.BUSINESS_REG_NO)
        assert ident.masked() == ident.value
