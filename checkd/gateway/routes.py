"""The HTTP routes, read once from the `google.api.http` annotations of the services' descriptors."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

from google.api import annotations_pb2
from google.protobuf.descriptor import MethodDescriptor, ServiceDescriptor

from checkd.api.v1 import check_pb2, registry_pb2

SERVICES: tuple[ServiceDescriptor, ...] = (
    check_pb2.DESCRIPTOR.services_by_name["CheckService"],
    registry_pb2.DESCRIPTOR.services_by_name["RegistryService"],
)
_VERBS = ("get", "put", "post", "delete", "patch")
_PARAM = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


@dataclass(frozen=True, slots=True)
class Route:
    """One HTTP binding of an RPC: verb, path template, where the body goes."""

    method: MethodDescriptor
    verb: str  # upper case
    template: str  # e.g. /v1/checks/{check_id}
    body: str  # "*" (the whole request), "" (no body: query parameters)
    pattern: re.Pattern[str]
    params: tuple[str, ...]  # request fields bound from the path

    @property
    def grpc_path(self) -> str:
        """The gRPC method path, e.g. /checkd.v1.CheckService/Check."""
        return f"/{self.method.containing_service.full_name}/{self.method.name}"

    @property
    def streaming(self) -> bool:
        """Whether the RPC streams (served as NDJSON in and out)."""
        return bool(self.method.client_streaming or self.method.server_streaming)

    def match(self, verb: str, path: str) -> dict[str, str] | None:
        """The path parameters when this route serves `verb path`, else None."""
        if verb != self.verb:
            return None
        found = self.pattern.fullmatch(path)
        if found is None:
            return None
        return {name: unquote(value) for name, value in found.groupdict().items()}


def _route(method: MethodDescriptor) -> Route | None:
    options = method.GetOptions()
    if not options.HasExtension(annotations_pb2.http):
        return None
    rule = options.Extensions[annotations_pb2.http]
    verb = next((v for v in _VERBS if getattr(rule, v)), "")
    if not verb:
        raise ValueError(f"{method.full_name}: google.api.http names no verb")
    template: str = getattr(rule, verb)
    params = tuple(_PARAM.findall(template))
    pieces = _PARAM.split(template)
    regex = "".join(f"(?P<{piece}>[^/]+)" if i % 2 else re.escape(piece) for i, piece in enumerate(pieces))
    return Route(method, verb.upper(), template, rule.body, re.compile(regex), params)


def routes() -> tuple[Route, ...]:
    """Every annotated RPC of CheckService and RegistryService, in declaration order."""
    found = []
    for service in SERVICES:
        for method in service.methods:
            route = _route(method)
            if route is not None:
                found.append(route)
    return tuple(found)


ROUTES = routes()


def find(verb: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The route serving `verb path` and its path parameters; None when no route has that path."""
    for route in ROUTES:
        params = route.match(verb, path)
        if params is not None:
            return route, params
    return None


def allowed_verbs(path: str) -> list[str]:
    """The verbs some route serves at `path` (for 405 instead of 404)."""
    return sorted({r.verb for r in ROUTES if r.pattern.fullmatch(path)})
