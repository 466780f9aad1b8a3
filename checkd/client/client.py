"""CheckdClient: CheckService and RegistryService calls with deadlines, retries, credentials and batching."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import grpc

from checkd.api.v1 import check_pb2 as pb
from checkd.api.v1 import check_pb2_grpc, registry_pb2_grpc
from checkd.api.v1 import registry_pb2 as reg
from checkd.client.errors import CallError
from checkd.limits import MAX_BATCH

T = TypeVar("T")
DEFAULT_DEADLINE = 10.0  # seconds for one call, retries included

# Retries through gRPC's own service config: only on UNAVAILABLE (checkd not reachable, starting,
# stopping, its store away), with exponential backoff. Safe because every check carries a
# request_id (the client makes one when the caller gives none): a retried check that was already
# recorded is answered with the recorded answer, never recorded twice; feedback is recorded once
# per content; GetCheck only reads. Registry calls are not retried (a revocation is not idempotent).
_RETRIED = ("Check", "BatchCheck", "SubmitFeedback", "GetCheck")


def service_config(attempts: int = 5, initial_backoff: float = 0.2, max_backoff: float = 5.0) -> str:
    """The channel's service config: the retry policy of the idempotent CheckService methods."""
    policy = {
        "maxAttempts": attempts,
        "initialBackoff": f"{initial_backoff}s",
        "maxBackoff": f"{max_backoff}s",
        "backoffMultiplier": 2,
        "retryableStatusCodes": ["UNAVAILABLE"],
    }
    names = [{"service": "checkd.v1.CheckService", "method": method} for method in _RETRIED]
    return json.dumps({"methodConfig": [{"name": names, "retryPolicy": policy}]})


class CheckdClient:
    """A department system's connection to checkd.

    `target` is HOST:PORT. TLS when `ca` is given (mutual TLS with `cert` and `key`); `token` is
    sent as `authorization: Bearer <token>`. Each call has a deadline (`deadline` seconds unless the
    call says otherwise); calls wait for the connection up to that deadline, so a daemon restart
    in the meantime is ridden out. Every failure raises CallError with checkd's reason.
    """

    def __init__(
        self,
        target: str,
        *,
        ca: Path | None = None,
        cert: Path | None = None,
        key: Path | None = None,
        token: str | None = None,
        deadline: float = DEFAULT_DEADLINE,
        attempts: int = 5,
        max_batch: int = MAX_BATCH,
    ) -> None:
        options = [("grpc.enable_retries", 1), ("grpc.service_config", service_config(attempts))]
        if ca is None:
            self._channel = grpc.insecure_channel(target, options=options)
        else:
            credentials = grpc.ssl_channel_credentials(
                root_certificates=ca.read_bytes(),
                private_key=key.read_bytes() if key else None,
                certificate_chain=cert.read_bytes() if cert else None,
            )
            self._channel = grpc.secure_channel(target, credentials, options=options)
        self._metadata = (("authorization", f"Bearer {token}"),) if token else ()
        self._deadline = deadline
        self.max_batch = max_batch
        self._check = check_pb2_grpc.CheckServiceStub(self._channel)
        self._registry = registry_pb2_grpc.RegistryServiceStub(self._channel)

    def __enter__(self) -> CheckdClient:
        """Use as a context manager to close the channel at the end."""
        return self

    def __exit__(self, *_: object) -> None:
        """Close the channel."""
        self.close()

    def close(self) -> None:
        """Close the channel."""
        self._channel.close()

    # ------------------------------------------------------------------ CheckService

    def check(self, request: pb.CheckRequest, *, deadline: float | None = None) -> pb.CheckResponse:
        """Check one business event (a request_id is added when it has none, so retries are safe)."""
        response: pb.CheckResponse = self._call(self._check.Check, with_request_id(request), deadline)
        return response

    def batch_check(
        self, requests: Sequence[pb.CheckRequest], *, deadline: float | None = None
    ) -> list[pb.BatchCheckResult]:
        """Check many events, in calls of at most `max_batch` each; results in request order.

        Each item gets a request_id if it has none, so a retried or repeated batch records nothing twice.
        """
        results: list[pb.BatchCheckResult] = []
        for start in range(0, len(requests), self.max_batch):
            chunk = [with_request_id(r) for r in requests[start : start + self.max_batch]]
            response: pb.BatchCheckResponse = self._call(
                self._check.BatchCheck, pb.BatchCheckRequest(requests=chunk), deadline
            )
            results.extend(response.results)
        return results

    def stream_check(
        self, requests: Iterable[pb.CheckRequest], *, deadline: float | None = None
    ) -> list[pb.CheckResponse]:
        """Check a burst over one stream (not retried: a stream is not replayed; use request_ids)."""
        try:
            answers = self._check.StreamCheck(
                (with_request_id(r) for r in requests),
                timeout=deadline or self._deadline,
                metadata=self._metadata,
                wait_for_ready=True,
            )
            return list(answers)
        except grpc.RpcError as exc:
            raise CallError.of(exc) from None

    def submit_feedback(
        self, request: pb.FeedbackRequest, *, deadline: float | None = None
    ) -> pb.FeedbackResponse:
        """Report what was done with each pushed measure (the same feedback twice is recorded once)."""
        response: pb.FeedbackResponse = self._call(self._check.SubmitFeedback, request, deadline)
        return response

    def get_check(self, check_id: str, *, deadline: float | None = None) -> pb.CheckRecord:
        """A stored check exactly as answered, with its feedback."""
        record: pb.CheckRecord = self._call(
            self._check.GetCheck, pb.GetCheckRequest(check_id=check_id), deadline
        )
        return record

    # ------------------------------------------------------------------ RegistryService (credit office)

    def upsert_entries(self, entries: Sequence[reg.EntryInput]) -> reg.UpsertEntriesResponse:
        """Insert or replace list entries; all or nothing."""
        response: reg.UpsertEntriesResponse = self._call(
            self._registry.UpsertEntries, reg.UpsertEntriesRequest(entries=entries), None
        )
        return response

    def revoke_entry(self, request: reg.RevokeEntryRequest) -> reg.RevokeEntryResponse:
        """Stop an entry applying from now on."""
        response: reg.RevokeEntryResponse = self._call(self._registry.RevokeEntry, request, None)
        return response

    def reinstate_entry(self, request: reg.ReinstateEntryRequest) -> reg.ReinstateEntryResponse:
        """Bring a revoked entry back in force."""
        response: reg.ReinstateEntryResponse = self._call(self._registry.ReinstateEntry, request, None)
        return response

    def get_subject(self, subject_id: str) -> reg.GetSubjectResponse:
        """Every entry about a subject."""
        response: reg.GetSubjectResponse = self._call(
            self._registry.GetSubject, reg.GetSubjectRequest(id=subject_id), None
        )
        return response

    def get_catalogue(self, request: reg.GetCatalogueRequest | None = None) -> reg.CatalogueView:
        """The catalogue in force."""
        view: reg.CatalogueView = self._call(
            self._registry.GetCatalogue, request or reg.GetCatalogueRequest(), None
        )
        return view

    def stats(self, request: reg.StatsRequest) -> reg.StatsResponse:
        """Closed-loop statistics."""
        response: reg.StatsResponse = self._call(self._registry.Stats, request, None)
        return response

    def reload(self) -> reg.ReloadResponse:
        """Rebuild the index and catalogue."""
        response: reg.ReloadResponse = self._call(self._registry.Reload, reg.ReloadRequest(), None)
        return response

    # ------------------------------------------------------------------ plumbing

    def _call(self, method: Callable[..., Any], request: Any, deadline: float | None) -> Any:
        try:
            return method(
                request, timeout=deadline or self._deadline, metadata=self._metadata, wait_for_ready=True
            )
        except grpc.RpcError as exc:
            raise CallError.of(exc) from None


def with_request_id(request: pb.CheckRequest) -> pb.CheckRequest:
    """The request itself if it has a request_id, else a copy with a fresh one."""
    if request.request_id:
        return request
    copy = pb.CheckRequest()
    copy.CopyFrom(request)
    copy.request_id = uuid.uuid4().hex
    return copy
