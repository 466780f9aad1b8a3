"""A server interceptor: per-call request id and rpc bound to logs; the standard grpc_server_* metrics."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import structlog
import uuid_utils

from checkd.ops.metrics import Metrics

REQUEST_ID_HEADER = "x-request-id"


class ObservingInterceptor(grpc.ServerInterceptor):  # type: ignore[misc]
    """Wraps every handler: binds `rpc` and `request_id` to structlog, times it, counts failures."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics
        # method -> (the handler found for it, its wrapped handler). intercept_service runs on
        # gRPC's one dispatching thread for every call, so the wrapper is built once per method
        # (and again only if the handler found changes, as it does once the starting gate opens);
        # what varies per call (the caller's request id) is read in the worker, in the wrapper.
        self._wrapped: dict[str, tuple[Any, Any]] = {}

    def intercept_service(self, continuation: Callable[[Any], Any], handler_call_details: Any) -> Any:
        """Return the handler wrapped with logging context and metrics."""
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        method = handler_call_details.method
        known = self._wrapped.get(method)
        if known is not None and known[0] is handler:
            return known[1]
        wrapped = self._wrap(method, handler)
        self._wrapped[method] = (handler, wrapped)
        return wrapped

    def _wrap(self, method: str, handler: Any) -> Any:
        # grpc_type as go-grpc-prometheus names the four call shapes.
        kinds = (
            ("unary_unary", "unary", grpc.unary_unary_rpc_method_handler, False),
            ("unary_stream", "server_stream", grpc.unary_stream_rpc_method_handler, True),
            ("stream_stream", "bidi_stream", grpc.stream_stream_rpc_method_handler, True),
            ("stream_unary", "client_stream", grpc.stream_unary_rpc_method_handler, False),
        )
        for kind, grpc_type, factory, streams_out in kinds:
            behaviour = getattr(handler, kind)
            if behaviour is not None:
                observe = _Observation(self._metrics, method, grpc_type)
                wrapped = observe.stream(behaviour) if streams_out else observe.unary(behaviour)
                return factory(wrapped, handler.request_deserializer, handler.response_serializer)
        return handler


class _Observation:
    """The wrappers of one method, with its metric series bound once."""

    def __init__(self, metrics: Metrics, method: str, grpc_type: str) -> None:
        self._rpc = _short_name(method)
        service, _, name = method.lstrip("/").rpartition("/")
        labels = (service, name, grpc_type)  # grpc_service, grpc_method, grpc_type
        self._started = metrics.rpc_started.labels(*labels)
        self._handling = metrics.rpc_handling.labels(*labels)
        self._handled = metrics.rpc_handled  # by status code too: prometheus keeps each code's series
        self._labels = labels
        self._batch_size = metrics.batch_size if self._rpc == "CheckService/BatchCheck" else None

    def unary(self, behaviour: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
        """Wrap a handler that returns one response."""

        def run(request: Any, context: grpc.ServicerContext) -> Any:
            with self._observed(context):
                items = getattr(request, "requests", None)  # None for an undecodable request
                if self._batch_size is not None and items is not None:
                    self._batch_size.observe(len(items))
                return behaviour(request, context)

        return run

    def stream(self, behaviour: Callable[[Any, Any], Iterator[Any]]) -> Callable[[Any, Any], Iterator[Any]]:
        """Wrap a handler that yields responses (runs in one worker thread until done)."""

        def run(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
            with self._observed(context):
                yield from behaviour(request, context)

        return run

    @contextlib.contextmanager
    def _observed(self, context: grpc.ServicerContext) -> Iterator[None]:
        """The call's log context while it runs; its latency and status when it ends."""
        started = time.perf_counter()
        self._started.inc()
        failed = False
        # A correlation id, not a secret: drawn in user space (secrets.token_hex is a getrandom call,
        # and a system call hands the interpreter lock to another thread on every call).
        request_id = _caller_request_id(context.invocation_metadata()) or uuid_utils.uuid4().hex
        with structlog.contextvars.bound_contextvars(rpc=self._rpc, request_id=request_id):
            try:
                yield
            except BaseException:
                failed = True
                raise
            finally:
                self._finish(context, started, failed)

    def _finish(self, context: grpc.ServicerContext, started: float, failed: bool) -> None:
        self._handling.observe(time.perf_counter() - started)
        code = _code_of(context)
        if code is None:
            code = "Unknown" if failed else "OK"  # an escaped exception: grpcio answers it as UNKNOWN
        self._handled.labels(*self._labels, code).inc()


def _code_of(context: grpc.ServicerContext) -> str | None:
    """The status code a handler set (by abort or set_code), if any."""
    try:
        code = context.code()
    except (AttributeError, NotImplementedError):
        return None
    if code is None:
        return None
    name = code.name if isinstance(code, grpc.StatusCode) else str(code)
    return _CODE_NAMES.get(name, name)


# grpc_code as go-grpc-prometheus writes it (codes.Code.String()): "OK", "InvalidArgument", ...
_CODE_NAMES = {code.name: "".join(part.title() for part in code.name.split("_")) for code in grpc.StatusCode}
_CODE_NAMES["OK"] = "OK"


def _short_name(method: str) -> str:
    """'/checkd.v1.CheckService/Check' -> 'CheckService/Check' (distinct from 'Health/Check')."""
    service, _, name = method.lstrip("/").rpartition("/")
    return f"{service.rsplit('.', 1)[-1]}/{name}"


def _caller_request_id(metadata: Any) -> str | None:
    """A caller-supplied correlation id, kept short and printable."""
    for key, value in metadata or ():
        if key == REQUEST_ID_HEADER and isinstance(value, str):
            cleaned = "".join(ch for ch in value if ch.isprintable())[:64]
            return cleaned or None
    return None
