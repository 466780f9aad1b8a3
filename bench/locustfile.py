"""Locust gRPC user for checkd: the realistic mix (Check, some BatchCheck) with feedback on 90% of hits.

Follows locust's documented gRPC pattern: a client interceptor fires a request event per call.

    .venv/bin/locust -f bench/locustfile.py --headless -u 50 -r 10 -t 60s --host 127.0.0.1:50051 \
        --scale city
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import grpc.experimental.gevent as grpc_gevent
from locust import User, events, task
from locust.env import Environment

grpc_gevent.init_gevent()  # grpc's blocking calls must yield to gevent, or one user stalls all

if __package__ in (None, ""):  # locust imports this file by path: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.mix import Mix, feedback_for, pushed, wants_feedback  # noqa: E402
from bench.synth import ROOT, SCALES, Population  # noqa: E402
from checkd.api.v1 import check_pb2 as pb  # noqa: E402
from checkd.api.v1 import check_pb2_grpc  # noqa: E402


@events.init_command_line_parser.add_listener  # type: ignore[untyped-decorator]
def _options(parser: Any) -> None:
    parser.add_argument("--scale", choices=sorted(SCALES), default="city", help="population the store holds")
    parser.add_argument("--mix-seed", type=int, default=1, help="seed of the population and the mix")


class LocustInterceptor(grpc.UnaryUnaryClientInterceptor):  # type: ignore[misc]
    """Fires one locust request event per unary call, with its time, size and error."""

    def __init__(self, environment: Environment) -> None:
        self.env = environment

    def intercept_unary_unary(
        self, continuation: Callable[..., Any], client_call_details: Any, request: Any
    ) -> Any:
        """Time the call to completion and report it."""
        started = time.perf_counter()
        exception: BaseException | None = None
        length = 0
        call = continuation(client_call_details, request)
        try:
            length = call.result().ByteSize()
        except grpc.RpcError as exc:
            exception = exc
        self.env.events.request.fire(  # type: ignore[no-untyped-call]
            request_type="grpc",
            name=client_call_details.method.rsplit("/", 1)[-1],
            response_time=(time.perf_counter() - started) * 1000,
            response_length=length,
            response=call,
            context=None,
            exception=exception,
        )
        return call


_MIXES: dict[tuple[str, int], Mix] = {}


def _mix(scale: str, seed: int) -> Mix:
    """One Mix per process, shared by all users (building one scans the population once)."""
    key = (scale, seed)
    if key not in _MIXES:
        _MIXES[key] = Mix(Population(SCALES[scale], seed), ROOT / "rules", seed + 200)
    return _MIXES[key]


class CheckdUser(User):
    """A department system: checks at a business trigger, reports what it did with pushed measures."""

    wait_time = staticmethod(lambda: 0.0)

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        options = environment.parsed_options
        self.mix = _mix(getattr(options, "scale", "city"), getattr(options, "mix_seed", 1))
        self.channel = grpc.insecure_channel(self.host or "127.0.0.1:50051")
        intercepted = grpc.intercept_channel(self.channel, LocustInterceptor(environment))
        self.stub = check_pb2_grpc.CheckServiceStub(intercepted)

    def on_stop(self) -> None:
        """Close the channel."""
        self.channel.close()

    def _answered(self, request: pb.CheckRequest, response: pb.CheckResponse) -> None:
        if pushed(response) and wants_feedback(response.check_id):
            self.stub.SubmitFeedback(feedback_for(response, request.department), timeout=30)

    @task(20)
    def check(self) -> None:
        """One Check, then feedback when it pushed a measure."""
        request = self.mix.request()
        try:
            response = self.stub.Check(request, timeout=30)
        except grpc.RpcError:
            return  # already reported by the interceptor
        self._answered(request, response)

    @task(1)
    def batch_check(self) -> None:
        """A BatchCheck of 100 (a nightly re-check), then feedback for its hits."""
        items = self.mix.requests(100)
        try:
            response = self.stub.BatchCheck(pb.BatchCheckRequest(requests=items), timeout=60)
        except grpc.RpcError:
            return
        for request, slot in zip(items, response.results, strict=True):
            if slot.HasField("response"):
                self._answered(request, slot.response)
