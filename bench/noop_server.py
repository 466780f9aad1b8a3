"""The baseline: checkd.v1.CheckService answering fixed-shape replies with no work, to price gRPC itself.

It uses the same server model as checkd (grpc thread pool, same worker count) unless --aio is given,
so the ratio checkd/no-op isolates the cost of checkd's own work. Run as a module:

    python -m bench.noop_server --listen 127.0.0.1:0 --port-file /tmp/port
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import threading
import uuid
import zlib
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import grpc
from google.protobuf.timestamp_pb2 import Timestamp
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from checkd.api.v1 import check_pb2 as pb
from checkd.api.v1 import check_pb2_grpc

SERVICE = pb.DESCRIPTOR.services_by_name["CheckService"].full_name
# Share of answers that push a measure (by request_id, so deterministic): the year replay's baseline
# sets it to checkd's hit share so its client also sends the feedback checkd's client sends.
HIT_SHARE = [0.0]
_MEASURE = pb.Measure(
    measure_id="noop.measure", polarity=pb.POLARITY_PENALTY, action="restrict", title="t", mandatory=True
)


def answer(request: pb.CheckRequest) -> pb.CheckResponse:
    """A CheckResponse of the shape checkd gives for a clear subject, built without any lookup."""
    stamp = Timestamp(seconds=1_780_000_000)
    response = pb.CheckResponse(
        check_id=uuid.uuid4().hex,
        verdict=pb.VERDICT_CLEAR,
        catalogue_version="c0",
        data_version="d0",
        evaluated_at=stamp,
        request_id=request.request_id,
        as_of=stamp,
    )
    for i, subject in enumerate(request.subjects):
        response.subjects.add(
            id=subject.id,
            index=i,
            subject_type=pb.SUBJECT_TYPE_ENTERPRISE,
            id_type=pb.ID_TYPE_USCC,
            verdict=pb.VERDICT_CLEAR,
        )
    if HIT_SHARE[0] and response.subjects and zlib.crc32(request.request_id.encode()) < HIT_SHARE[0] * 2**32:
        response.subjects[0].measures.append(_MEASURE)
    return response


class NoopCheckService(check_pb2_grpc.CheckServiceServicer):
    """Every CheckService method, answered at once with a fixed-shape reply."""

    def Check(self, request: pb.CheckRequest, context: Any) -> pb.CheckResponse:
        """One fixed answer."""
        return answer(request)

    def BatchCheck(self, request: pb.BatchCheckRequest, context: Any) -> pb.BatchCheckResponse:
        """One fixed answer per item, in order."""
        return _batch(request)

    def StreamCheck(
        self, request_iterator: Iterator[pb.CheckRequest], context: Any
    ) -> Iterator[pb.CheckResponse]:
        """One fixed answer per streamed request."""
        for request in request_iterator:
            yield answer(request)

    def SubmitFeedback(self, request: pb.FeedbackRequest, context: Any) -> pb.FeedbackResponse:
        """An acknowledgement."""
        return pb.FeedbackResponse(feedback_id=uuid.uuid4().hex)

    def GetCheck(self, request: pb.GetCheckRequest, context: Any) -> pb.CheckRecord:
        """An empty record under the asked id."""
        return pb.CheckRecord(check_id=request.check_id)


class AioNoopCheckService(check_pb2_grpc.CheckServiceServicer):
    """The same answers for a grpc.aio server."""

    async def Check(self, request: pb.CheckRequest, context: Any) -> pb.CheckResponse:
        """One fixed answer."""
        return answer(request)

    async def BatchCheck(self, request: pb.BatchCheckRequest, context: Any) -> pb.BatchCheckResponse:
        """One fixed answer per item, in order."""
        return _batch(request)

    async def StreamCheck(
        self, request_iterator: AsyncIterator[pb.CheckRequest], context: Any
    ) -> AsyncIterator[pb.CheckResponse]:
        """One fixed answer per streamed request."""
        async for request in request_iterator:
            yield answer(request)

    async def SubmitFeedback(self, request: pb.FeedbackRequest, context: Any) -> pb.FeedbackResponse:
        """An acknowledgement."""
        return pb.FeedbackResponse(feedback_id=uuid.uuid4().hex)

    async def GetCheck(self, request: pb.GetCheckRequest, context: Any) -> pb.CheckRecord:
        """An empty record under the asked id."""
        return pb.CheckRecord(check_id=request.check_id)


def _batch(request: pb.BatchCheckRequest) -> pb.BatchCheckResponse:
    return pb.BatchCheckResponse(results=[pb.BatchCheckResult(response=answer(r)) for r in request.requests])


def _health(server: Any) -> None:
    servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    for name in ("", SERVICE):
        servicer.set(name, health_pb2.HealthCheckResponse.SERVING)


def serve_sync(listen: str, workers: int, port_file: Path | None) -> None:
    """Serve with the thread-pool server (checkd's model) until SIGTERM/SIGINT."""
    server = grpc.server(
        ThreadPoolExecutor(max_workers=workers),
        maximum_concurrent_rpcs=256,
        options=[("grpc.so_reuseport", 0)],
    )
    check_pb2_grpc.add_CheckServiceServicer_to_server(NoopCheckService(), server)
    _health(server)
    port = server.add_insecure_port(listen)
    server.start()
    if port_file is not None:
        port_file.write_text(str(port))
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    stopped.wait()
    server.stop(1).wait()


async def serve_aio(listen: str, port_file: Path | None) -> None:
    """Serve with grpc.aio until SIGTERM/SIGINT."""
    server = grpc.aio.server(options=[("grpc.so_reuseport", 0)])
    check_pb2_grpc.add_CheckServiceServicer_to_server(AioNoopCheckService(), server)
    _health(server)
    port = server.add_insecure_port(listen)
    await server.start()
    if port_file is not None:
        port_file.write_text(str(port))
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stopped.set)
    loop.add_signal_handler(signal.SIGINT, stopped.set)
    await stopped.wait()
    await server.stop(1)


def main(argv: list[str] | None = None) -> int:
    """Parse options and serve."""
    parser = argparse.ArgumentParser(prog="python -m bench.noop_server", description=__doc__)
    parser.add_argument("--listen", default="127.0.0.1:0")
    parser.add_argument("--port-file", type=Path)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--aio", action="store_true", help="grpc.aio server instead of the thread pool")
    parser.add_argument("--hit-share", type=float, default=0.0, help="share of answers pushing a measure")
    args = parser.parse_args(argv)
    HIT_SHARE[0] = args.hit_share
    if args.aio:
        asyncio.run(serve_aio(args.listen, args.port_file))
    else:
        serve_sync(args.listen, args.workers, args.port_file)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
