"""Every error class answers with ErrorInfo (domain checkd, a stable reason) and the details of its code."""

from __future__ import annotations

import inspect

import pytest
from google.rpc import code_pb2, error_details_pb2

from checkd import errors
from checkd.errors import CheckdError, Violation
from checkd.server import status
from checkd.store import db


def _details(error: CheckdError) -> dict[str, object]:
    found: dict[str, object] = {}
    for detail in status.status_of(error).details:
        for kind in (
            error_details_pb2.ErrorInfo,
            error_details_pb2.BadRequest,
            error_details_pb2.RetryInfo,
            error_details_pb2.PreconditionFailure,
        ):
            if detail.Is(kind.DESCRIPTOR):
                message = kind()
                detail.Unpack(message)
                found[kind.__name__] = message
    return found


def _error_classes() -> list[type[CheckdError]]:
    modules = (errors, db)
    return sorted(
        {
            cls
            for module in modules
            for _, cls in inspect.getmembers(module, inspect.isclass)
            if issubclass(cls, CheckdError) and cls is not CheckdError
        },
        key=lambda cls: cls.__name__,
    )


def _instance(cls: type[CheckdError]) -> CheckdError:
    if issubclass(cls, errors.InvalidArgument):
        return cls([Violation("subjects[0].id", "bad check character")])
    if issubclass(cls, (errors.ImportRejected,)):
        return cls([Violation("id", "bad id", at="entries.csv:3")])
    if issubclass(cls, errors.CatalogueError):
        return cls([Violation("id", "required", at="rules/a.yaml:3")])
    return cls("something happened")


def test_every_error_class_has_its_own_reason() -> None:
    """No error class falls back to another's reason: the table lists each one."""
    listed = {entry.error for entry in status.REASONS}
    missing = [cls.__name__ for cls in _error_classes() if cls not in listed]
    assert not missing, f"add these to checkd/server/status.py REASONS: {missing}"
    reasons = [entry.reason for entry in status.REASONS]
    assert len(reasons) == len(set(reasons)), "a reason names one error"


@pytest.mark.parametrize("cls", _error_classes(), ids=lambda cls: cls.__name__)
def test_status_carries_error_info_and_the_details_of_its_code(cls: type[CheckdError]) -> None:
    """ErrorInfo always; BadRequest on field errors; RetryInfo to retry; PreconditionFailure."""
    error = _instance(cls)
    found = _details(error)
    info = found["ErrorInfo"]
    assert isinstance(info, error_details_pb2.ErrorInfo)
    assert info.domain == "checkd"
    assert info.reason == status.reason_of(error).reason
    code = status.status_of(error).code
    if code in (code_pb2.UNAVAILABLE, code_pb2.RESOURCE_EXHAUSTED):
        retry = found["RetryInfo"]
        assert isinstance(retry, error_details_pb2.RetryInfo) and retry.retry_delay.ToNanoseconds() > 0
    if code == code_pb2.FAILED_PRECONDITION:
        failure = found["PreconditionFailure"]
        assert isinstance(failure, error_details_pb2.PreconditionFailure)
        assert failure.violations[0].type == info.reason
    if isinstance(error, errors.InvalidArgument):
        assert isinstance(found["BadRequest"], error_details_pb2.BadRequest)
        assert info.metadata["field"] == "subjects[0].id"


def test_retry_after_of_the_error_wins_over_the_default() -> None:
    """A rate refusal's own delay (from the bucket) is what RetryInfo says."""
    found = _details(errors.RateLimited("over", retry_after=2.5))
    retry = found["RetryInfo"]
    assert isinstance(retry, error_details_pb2.RetryInfo)
    assert retry.retry_delay.ToNanoseconds() == 2_500_000_000
