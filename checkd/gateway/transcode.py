"""HTTP <-> protobuf: canonical JSON in and out, google.rpc.Status JSON with the standard HTTP mapping."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

import grpc
from google.protobuf import json_format
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.message import Message
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from checkd.errors import CheckdError, MalformedRequest, Violation
from checkd.gateway.routes import Route
from checkd.server.status import status_of

# The standard mapping (google/rpc/code.proto, as grpc-gateway applies it).
HTTP_STATUS = {
    code_pb2.OK: 200,
    code_pb2.CANCELLED: 499,
    code_pb2.UNKNOWN: 500,
    code_pb2.INVALID_ARGUMENT: 400,
    code_pb2.DEADLINE_EXCEEDED: 504,
    code_pb2.NOT_FOUND: 404,
    code_pb2.ALREADY_EXISTS: 409,
    code_pb2.PERMISSION_DENIED: 403,
    code_pb2.UNAUTHENTICATED: 401,
    code_pb2.RESOURCE_EXHAUSTED: 429,
    code_pb2.FAILED_PRECONDITION: 400,
    code_pb2.ABORTED: 409,
    code_pb2.OUT_OF_RANGE: 400,
    code_pb2.UNIMPLEMENTED: 501,
    code_pb2.INTERNAL: 500,
    code_pb2.UNAVAILABLE: 503,
    code_pb2.DATA_LOSS: 500,
}
_SCALARS: dict[int, Any] = {
    FieldDescriptor.TYPE_BOOL: lambda text: text.lower() in ("true", "1"),
    FieldDescriptor.TYPE_DOUBLE: float,
    FieldDescriptor.TYPE_FLOAT: float,
}


def request_of(route: Route, params: dict[str, str], query: str, body: bytes) -> Message:
    """The request message: path parameters, then the JSON body (body "*") or query parameters."""
    request: Message = _message_class(route)()
    if route.body == "*" and body.strip():
        parse_json(body, request)
    for key, value in parse_qsl(query, keep_blank_values=True):
        _set_query_field(request, key, value)
    for name, value in params.items():
        setattr(request, name, value)  # path parameters are string fields (checked at route build)
    return request


def parse_json(text: bytes | str, into: Message) -> Message:
    """Canonical protobuf JSON into `into`; MalformedRequest naming the problem otherwise."""
    try:
        json_format.Parse(text, into)
    except (json_format.ParseError, UnicodeDecodeError, RecursionError) as exc:
        raise MalformedRequest(
            [Violation("(body)", f"not a valid {into.DESCRIPTOR.name} in JSON: {str(exc)[:200]}")]
        ) from None
    return into


def _set_query_field(request: Message, key: str, value: str) -> None:
    fields = request.DESCRIPTOR.fields_by_name
    field = fields.get(key) or next((f for f in request.DESCRIPTOR.fields if f.json_name == key), None)
    if field is None or field.type == FieldDescriptor.TYPE_MESSAGE:
        raise MalformedRequest([Violation(key, f"not a query parameter of {request.DESCRIPTOR.name}")])
    try:
        converted: Any
        if field.type == FieldDescriptor.TYPE_STRING:
            converted = value
        elif field.type == FieldDescriptor.TYPE_ENUM:
            assert field.enum_type is not None  # an enum field has its type
            known = field.enum_type.values_by_name.get(value)
            converted = known.number if known is not None else int(value)
        elif field.type in _SCALARS:
            converted = _SCALARS[field.type](value)
        else:
            converted = int(value)
        if field.is_repeated:
            getattr(request, field.name).append(converted)
        else:
            setattr(request, field.name, converted)
    except (ValueError, TypeError):
        raise MalformedRequest([Violation(key, f"not a valid value: {value[:40]!r}")]) from None


def _message_class(route: Route) -> type[Message]:
    from google.protobuf import message_factory

    return message_factory.GetMessageClass(route.method.input_type)


def to_json(message: Message) -> bytes:
    """The canonical JSON mapping of a response (lowerCamelCase names, enums by name)."""
    return json_format.MessageToJson(message, indent=None, ensure_ascii=False).encode()


def status_json(status: status_pb2.Status) -> bytes:
    """A google.rpc.Status as JSON (details with their @type)."""
    return json.dumps(json_format.MessageToDict(status), ensure_ascii=False).encode()


def status_of_rpc_error(error: grpc.RpcError) -> status_pb2.Status:
    """The rich status the daemon sent, or one built from the bare code and message."""
    rich = rpc_status.from_call(error) if isinstance(error, grpc.Call) else None
    if rich is not None:
        return rich
    code = error.code() if isinstance(error, grpc.Call) else grpc.StatusCode.UNKNOWN
    message = error.details() if isinstance(error, grpc.Call) else str(error)
    return status_pb2.Status(code=code.value[0], message=message or code.name)


def status_of_error(error: CheckdError) -> status_pb2.Status:
    """The status of an error the gateway found itself (the same table as the daemon's)."""
    return status_of(error)


def http_status(status: status_pb2.Status) -> int:
    """The HTTP status of a google.rpc code."""
    return HTTP_STATUS.get(status.code, 500)


def retry_after(status: status_pb2.Status) -> str | None:
    """A Retry-After header value (whole seconds, at least 1) from the status's RetryInfo."""
    for detail in status.details:
        if detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            info = error_details_pb2.RetryInfo()
            detail.Unpack(info)
            seconds = info.retry_delay.seconds + (1 if info.retry_delay.nanos else 0)
            return str(max(1, seconds))
    return None
