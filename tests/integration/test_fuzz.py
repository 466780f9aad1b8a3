"""Property-based fuzzing of every RPC through the real server: never UNKNOWN or INTERNAL, never a crash."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from checkd.api.v1 import check_pb2 as pb
from checkd.api.v1 import registry_pb2 as reg
from tests import factories
from tests.conftest import pg_database
from tests.daemon import RunningDaemon, start_daemon

ACCEPTABLE = {
    grpc.StatusCode.OK,
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.FAILED_PRECONDITION,
}
FUZZ = settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
VALID_IDS = [factories.uscc(), factories.uscc(prefix="51"), factories.resident_id()]

texts = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        ["", " ", "market_regulation", "administrative_licensing", "\x00", "９１" * 9, *VALID_IDS]
    ),
    st.text(min_size=1, max_size=3).map(lambda s: s * 20_000),  # huge strings
)
small_texts = st.one_of(st.text(max_size=20), st.sampled_from(VALID_IDS))
enums = st.one_of(st.integers(min_value=-(2**31), max_value=2**31 - 1), st.integers(0, 7))
subjects = st.builds(pb.Subject, id=texts, id_type=enums, name=texts, subject_type=enums, role=enums)
# enormous repeated fields, of small items (the message stays under the 16 MiB receive limit)
many_subjects = st.builds(pb.Subject, id=small_texts, id_type=enums, name=small_texts)


@st.composite
def timestamps(draw: st.DrawFn) -> Any:
    from google.protobuf.timestamp_pb2 import Timestamp

    return Timestamp(seconds=draw(st.integers(-(2**62), 2**62)), nanos=draw(st.integers(-(2**31), 2**31 - 1)))


check_requests = st.builds(
    pb.CheckRequest,
    request_id=texts,
    department=texts,
    matter=texts,
    scene=texts,
    subjects=st.one_of(st.lists(subjects, max_size=4), st.lists(many_subjects, min_size=101, max_size=200)),
    as_of=st.one_of(st.none(), timestamps()),
)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def fuzzed(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningDaemon]:
    """One daemon per backend for all fuzzing (PostgreSQL enforces column sizes SQLite ignores)."""
    workdir = tmp_path_factory.mktemp("fuzz")
    if request.param == "sqlite":
        running = start_daemon(f"sqlite:///{workdir / 'checkd.db'}", workdir)
        yield from _fuzzed(running)
    else:
        for url in pg_database():
            yield from _fuzzed(start_daemon(url, workdir))


def _fuzzed(running: RunningDaemon) -> Iterator[RunningDaemon]:
    yield running
    after = running.check.Check(
        pb.CheckRequest(
            department="market_regulation",
            scene="administrative_licensing",
            subjects=[pb.Subject(id=factories.uscc())],
        ),
        timeout=10,
    )
    assert after.check_id
    assert running.stop() == 0
    assert "internal_error" not in running.log_text()


def _call(method: Callable[..., Any], request: Any) -> grpc.StatusCode:
    try:
        method(request, timeout=30)
    except grpc.RpcError as exc:
        code: grpc.StatusCode = exc.code()
        assert code in ACCEPTABLE, (code, exc.details())
        if code is grpc.StatusCode.INVALID_ARGUMENT:
            assert exc.details(), "an INVALID_ARGUMENT must say what is wrong"
        return code
    return grpc.StatusCode.OK


@FUZZ
@given(request=check_requests)
def test_check_survives_anything(fuzzed: RunningDaemon, request: pb.CheckRequest) -> None:
    """Random, huge, empty and ill-typed CheckRequests: OK or a precise INVALID_ARGUMENT."""
    _call(fuzzed.check.Check, request)


@FUZZ
@given(requests=st.lists(check_requests, max_size=5))
def test_batch_check_survives_anything(fuzzed: RunningDaemon, requests: list[pb.CheckRequest]) -> None:
    """Random batches: each slot is answered or carries its own error."""
    _call(fuzzed.check.BatchCheck, pb.BatchCheckRequest(requests=requests))


@FUZZ
@given(
    check_id=texts,
    outcomes=st.lists(
        st.builds(pb.FeedbackOutcome, measure_id=texts, subject_id=texts, outcome=enums, reason=texts),
        max_size=5,
    ),
)
def test_feedback_and_get_check_survive_anything(
    fuzzed: RunningDaemon, check_id: str, outcomes: list[pb.FeedbackOutcome]
) -> None:
    """Random feedback and look-ups: NOT_FOUND or INVALID_ARGUMENT, nothing worse."""
    _call(fuzzed.check.SubmitFeedback, pb.FeedbackRequest(check_id=check_id, outcomes=outcomes))
    _call(fuzzed.check.GetCheck, pb.GetCheckRequest(check_id=check_id))


@FUZZ
@given(
    entries=st.lists(
        st.builds(
            reg.EntryInput,
            entry_id=texts,
            subject_id=texts,
            id_type=enums,
            subject_name=texts,
            subject_type=enums,
            list=texts,
            authority=texts,
            document_no=texts,
            level=texts,
            start=texts,
            end=texts,
            reason=texts,
            severity=texts,
            legal_representative_id=texts,
        ),
        max_size=3,
    ),
    subject=texts,
    id_type=enums,
)
def test_registry_survives_anything(
    fuzzed: RunningDaemon, entries: list[reg.EntryInput], subject: str, id_type: int
) -> None:
    """Random registry input: refused precisely, never half-applied or INTERNAL."""
    _call(fuzzed.registry.UpsertEntries, reg.UpsertEntriesRequest(entries=entries))
    _call(fuzzed.registry.GetSubject, reg.GetSubjectRequest(id=subject, id_type=id_type))
    _call(
        fuzzed.registry.RevokeEntry,
        reg.RevokeEntryRequest(entry_id=subject, reason=subject, document_no=subject),
    )


# Dates as a department system or a typo sends them: edges of the calendar, other formats, junk.
date_texts = st.one_of(
    st.dates().map(lambda d: d.isoformat()),
    st.sampled_from(
        [
            "",
            " ",
            "0001-01-01",
            "9999-12-31",
            "9999-12-30",
            "1969-12-31",
            "2026-02-29",
            "2024-02-29",
            "2026-13-01",
            "2026-00-10",
            "2026-1-5",
            "20260105",
            "2026-06-16T07:00",
            "2026-06-16T07:00:00+08:00",
            "9999-12-31T23:59:59",
            "0001-01-01T00:00:00+14:00",
            "9999-12-31T23:59:59-14:00",
            "2026-06-16 07:00:00Z",
            "\x00",
            "２０２６-０１-０１",
        ]
    ),
    st.datetimes(timezones=st.one_of(st.none(), st.timezones())).map(lambda t: t.isoformat()),
    texts,
)
ints32 = st.one_of(st.integers(min_value=-(2**31), max_value=2**31 - 1), st.integers(-2, 400))
catalogue_words = st.one_of(
    texts,
    st.sampled_from(
        ["market_regulation", "administrative_licensing", "public_resource_trading", "food_licence"]
    ),
)


@FUZZ
@example(from_date="0001-01-01", to_date="0001-01-01", department="", overdue_days=0, as_of="")
@example(
    from_date="2026-01-01",
    to_date="9999-12-31",
    department="\x00",
    overdue_days=2**31 - 1,
    as_of="9999-12-31",
)
@example(
    from_date="2026-01-01",
    to_date="2026-12-31",
    department="",
    overdue_days=0,
    as_of="0001-01-01T00:00:00+14:00",
)
@given(
    from_date=date_texts,
    to_date=date_texts,
    department=catalogue_words,
    overdue_days=ints32,
    as_of=date_texts,
)
def test_stats_survives_anything(
    fuzzed: RunningDaemon, from_date: str, to_date: str, department: str, overdue_days: int, as_of: str
) -> None:
    """Random, extreme and malformed statistics requests: OK or INVALID_ARGUMENT naming the field."""
    _call(
        fuzzed.registry.Stats,
        reg.StatsRequest(
            from_date=from_date,
            to_date=to_date,
            department=department,
            overdue_days=overdue_days,
            as_of=as_of,
        ),
    )


@FUZZ
@given(department=catalogue_words, scene=catalogue_words, matter=catalogue_words)
def test_get_catalogue_survives_anything(
    fuzzed: RunningDaemon, department: str, scene: str, matter: str
) -> None:
    """Random catalogue filters: the narrowed view or INVALID_ARGUMENT."""
    _call(
        fuzzed.registry.GetCatalogue,
        reg.GetCatalogueRequest(department=department, scene=scene, matter=matter),
    )


@FUZZ
@given(
    entry_id=texts,
    reason=texts,
    document_no=texts,
    kind=st.one_of(texts, st.sampled_from(["repair", "objection", "REPAIR", " repair"])),
    subject=texts,
    id_type=enums,
)
def test_revoke_and_get_subject_survive_anything(
    fuzzed: RunningDaemon, entry_id: str, reason: str, document_no: str, kind: str, subject: str, id_type: int
) -> None:
    """Random revocations and subject look-ups: NOT_FOUND, FAILED_PRECONDITION or INVALID_ARGUMENT."""
    _call(
        fuzzed.registry.RevokeEntry,
        reg.RevokeEntryRequest(entry_id=entry_id, reason=reason, document_no=document_no, kind=kind),
    )
    _call(fuzzed.registry.GetSubject, reg.GetSubjectRequest(id=subject, id_type=id_type))


@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.just(None))
def test_reload_keeps_serving(fuzzed: RunningDaemon, _: None) -> None:
    """Reload between fuzzed calls: OK, and the daemon keeps answering."""
    assert _call(fuzzed.registry.Reload, reg.ReloadRequest()) is grpc.StatusCode.OK


def test_registry_garbage_bytes_are_invalid_argument(fuzzed: RunningDaemon) -> None:
    """Bytes that are not a protobuf message, on every registry RPC: INVALID_ARGUMENT."""
    for method in ("UpsertEntries", "RevokeEntry", "GetSubject", "Stats", "GetCatalogue", "Reload"):
        call = fuzzed.channel.unary_unary(
            f"/checkd.v1.RegistryService/{method}", request_serializer=None, response_deserializer=None
        )
        for garbage in (b"\xff\xff\xff\xff", b"\x0a\x05ab"):
            with pytest.raises(grpc.RpcError) as caught:
                call(garbage, timeout=10)
            assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT, (method, caught.value)
