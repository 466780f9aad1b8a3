"""Recovering a person's number from its masked form and old key, the core of `checkd rekey`."""

from __future__ import annotations

import pytest

from checkd.loop.rekey import recover_number
from checkd.store.rekey import RekeyRefused
from checkd.subjects.ids import mask
from checkd.subjects.keys import SubjectKeyer
from tests import factories

KEYER = SubjectKeyer(b"unit-test-secret-0123456789")


@pytest.mark.parametrize("birth", ["19491231", "20240229", "18650704"])
def test_number_is_recovered_from_mask_and_key(birth: str) -> None:
    """Any valid birth date, including before 1900, is found under the right secret."""
    number = factories.resident_id(birth=birth)
    assert recover_number(KEYER, KEYER.person_key(number), mask(number), 2026) == number


def test_known_number_with_x_check_character() -> None:
    """The domain brief's example with check character X."""
    number = "11010519491231002X"
    assert recover_number(KEYER, KEYER.person_key(number), mask(number), 2026) == number


def test_mask_that_is_not_an_identity_number_is_refused() -> None:
    """A display form that is not a masked 18-character number cannot be re-keyed.

    (A wrong old secret never gets this far: the store's key fingerprint refuses it first.)
    """
    number = factories.resident_id(birth="19800101")
    with pytest.raises(RekeyRefused, match="not a masked"):
        recover_number(KEYER, KEYER.person_key(number), number, 2026)
    with pytest.raises(RekeyRefused, match="no valid check character"):
        recover_number(KEYER, KEYER.person_key(number), mask(number)[:-1] + "Y", 2026)


def test_an_organisation_code_that_reads_as_a_person_number_is_recovered_too() -> None:
    """A USCC keyed like a person's number (it fails the resident check) is still re-keyable."""
    from checkd.subjects.ids import IdKind, parse_identifier

    code = parse_identifier("330402198001010041", IdKind.USCC)
    assert code.personal
    assert recover_number(KEYER, KEYER.key(code), code.masked(), 2026) == code.value
