"""Service registration with lenient request decoding: garbage bytes become INVALID_ARGUMENT.

grpcio answers a request it cannot deserialize with INTERNAL; callers must instead learn that
their message was malformed, so decoding failures are handed to the servicer as `Undecodable`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf.descriptor import ServiceDescriptor
from google.protobuf.message import DecodeError, Message
from google.protobuf.message_factory import GetMessageClass


@dataclass(frozen=True, slots=True)
class Undecodable:
    """A request whose bytes are not a valid message of the expected type."""

    type_name: str
    reason: str


def _lenient(message_class: type[Message]) -> Callable[[bytes], Any]:
    def decode(data: bytes) -> Any:
        try:
            return message_class.FromString(data)
        except (DecodeError, RuntimeError, ValueError) as exc:
            return Undecodable(message_class.DESCRIPTOR.full_name, str(exc) or type(exc).__name__)

    return decode


def _serializer(message_class: type[Message]) -> Callable[[Any], bytes]:
    serialize = message_class.SerializeToString

    def encode(response: Any) -> bytes:
        # Answers assembled from bytes (checks, GetCheck) pass through as they were recorded.
        return response if type(response) is bytes else serialize(response)

    return encode


def service_handler(servicer: object, service: ServiceDescriptor) -> grpc.GenericRpcHandler:
    """A generic handler for every method of `service`, implemented by `servicer`."""
    handlers = {}
    for method in service.methods:
        behaviour = getattr(servicer, method.name)
        request_class = GetMessageClass(method.input_type)
        response_class = GetMessageClass(method.output_type)
        factory = {
            (False, False): grpc.unary_unary_rpc_method_handler,
            (False, True): grpc.unary_stream_rpc_method_handler,
            (True, False): grpc.stream_unary_rpc_method_handler,
            (True, True): grpc.stream_stream_rpc_method_handler,
        }[(method.client_streaming, method.server_streaming)]
        handlers[method.name] = factory(
            behaviour,
            request_deserializer=_lenient(request_class),
            response_serializer=_serializer(response_class),
        )
    return grpc.method_handlers_generic_handler(service.full_name, handlers)
