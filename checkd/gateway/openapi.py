"""OpenAPI 3.1 of the HTTP routes, generated from the proto descriptors (schemas, routes, comments)."""

from __future__ import annotations

import json
from typing import Any

from google.protobuf import descriptor_pb2

from checkd import __version__
from checkd.gateway.descriptors import comments, own_files
from checkd.gateway.routes import ROUTES, Route

FieldProto = descriptor_pb2.FieldDescriptorProto
_INTEGERS = {FieldProto.TYPE_INT32, FieldProto.TYPE_SINT32, FieldProto.TYPE_SFIXED32}
_UNSIGNED = {FieldProto.TYPE_UINT32, FieldProto.TYPE_FIXED32}
# 64-bit integers are strings in the canonical JSON mapping (JavaScript numbers lose precision).
_LONGS = {FieldProto.TYPE_INT64, FieldProto.TYPE_SINT64, FieldProto.TYPE_SFIXED64}
_ULONGS = {FieldProto.TYPE_UINT64, FieldProto.TYPE_FIXED64}
_WELL_KNOWN: dict[str, dict[str, Any]] = {
    ".google.protobuf.Timestamp": {"type": "string", "format": "date-time"},
    ".google.protobuf.Duration": {"type": "string", "pattern": r"^-?\d+(\.\d+)?s$"},
}
_STATUS_SCHEMA = {
    "type": "object",
    "description": "google.rpc.Status: the gRPC code, a message, and typed details (ErrorInfo "
    "with domain checkd and a stable reason; BadRequest, RetryInfo, PreconditionFailure). "
    "See docs/errors.md.",
    "properties": {
        "code": {"type": "integer", "format": "int32"},
        "message": {"type": "string"},
        "details": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"@type": {"type": "string"}},
                "additionalProperties": True,
            },
        },
    },
}


def spec(found: descriptor_pb2.FileDescriptorSet) -> dict[str, Any]:
    """The OpenAPI document."""
    schemas: dict[str, Any] = {"google.rpc.Status": _STATUS_SCHEMA}
    notes: dict[str, str] = {}
    for proto in own_files(found):
        file_notes = comments(proto)
        for index, message in enumerate(proto.message_type):
            _message_schemas(proto.package, message, file_notes, (4, index), schemas)
        for index, enum in enumerate(proto.enum_type):
            schemas[f"{proto.package}.{enum.name}"] = _enum_schema(enum, file_notes.get((5, index), ""))
        for s_index, service in enumerate(proto.service):
            for m_index, method in enumerate(service.method):
                notes[f"{proto.package}.{service.name}.{method.name}"] = file_notes.get(
                    (6, s_index, 2, m_index), ""
                )
    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        full = route.method.full_name
        paths.setdefault(route.template, {})[route.verb.lower()] = _operation(
            route, notes.get(full, ""), schemas
        )
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "checkd HTTP/JSON API",
            "version": __version__,
            "description": "The gRPC services of checkd over HTTP/JSON (canonical protobuf JSON mapping). "
            "Errors are google.rpc.Status JSON with the standard gRPC to HTTP status mapping.",
        },
        "paths": paths,
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "a department token"},
                "clientCertificate": {"type": "mutualTLS", "description": "a department certificate"},
            },
        },
        "security": [{"bearer": []}, {"clientCertificate": []}],
    }


def spec_text(found: descriptor_pb2.FileDescriptorSet) -> str:
    """The document as committed and served (stable key order, one trailing newline)."""
    return json.dumps(spec(found), indent=2, ensure_ascii=False) + "\n"


def _ref(type_name: str) -> dict[str, Any]:
    if type_name in _WELL_KNOWN:
        return dict(_WELL_KNOWN[type_name])
    return {"$ref": f"#/components/schemas/{type_name.removeprefix('.')}"}


def _operation(route: Route, summary: str, schemas: dict[str, Any]) -> dict[str, Any]:
    method = route.method
    request_ref = _ref(f".{method.input_type.full_name}")
    response_ref = _ref(f".{method.output_type.full_name}")
    operation: dict[str, Any] = {
        "operationId": f"{method.containing_service.name}_{method.name}",
        "tags": [method.containing_service.name],
        "summary": summary,
        "x-grpc-method": route.grpc_path,
    }
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}} for name in route.params
    ]
    if route.body == "" and route.verb == "GET":
        schema = schemas[method.input_type.full_name]
        for name, prop in schema.get("properties", {}).items():
            if name not in route.params and "$ref" not in prop and prop.get("type") != "array":
                parameters.append({"name": name, "in": "query", "required": False, "schema": prop})
    if parameters:
        operation["parameters"] = parameters
    if route.streaming:
        operation["description"] = (
            "Newline-delimited JSON: one request message per line in; one line per answer out, "
            '`{"result": <response>}`, and `{"error": <google.rpc.Status>}` as the last line on failure.'
        )
        operation["requestBody"] = {
            "required": True,
            "content": {"application/x-ndjson": {"schema": request_ref}},
        }
        line = {
            "type": "object",
            "properties": {
                "result": response_ref,
                "error": {"$ref": "#/components/schemas/google.rpc.Status"},
            },
        }
        ok = {
            "description": "one JSON object per line",
            "content": {"application/x-ndjson": {"schema": line}},
        }
    else:
        if route.body == "*":
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": request_ref}},
            }
        ok = {"description": "OK", "content": {"application/json": {"schema": response_ref}}}
    error = {
        "description": "an error: google.rpc.Status (HTTP status by the standard gRPC mapping)",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/google.rpc.Status"}}},
    }
    operation["responses"] = {"200": ok, "default": error}
    return operation


def _message_schemas(
    prefix: str,
    message: descriptor_pb2.DescriptorProto,
    notes: dict[tuple[int, ...], str],
    path: tuple[int, ...],
    schemas: dict[str, Any],
) -> None:
    name = f"{prefix}.{message.name}"
    maps = {f".{name}.{n.name}": n for n in message.nested_type if n.options.map_entry}
    properties: dict[str, Any] = {}
    for index, field in enumerate(message.field):
        schema = _field_schema(field, maps)
        text = notes.get((*path, 2, index), "")
        if text:
            schema = (
                {**schema, "description": text}
                if "$ref" not in schema
                else {"allOf": [schema], "description": text}
            )
        properties[field.json_name or field.name] = schema
    described: dict[str, Any] = {"type": "object", "properties": properties}
    if notes.get(path):
        described["description"] = notes[path]
    schemas[name] = described
    for index, nested in enumerate(message.nested_type):
        if not nested.options.map_entry:
            _message_schemas(name, nested, notes, (*path, 3, index), schemas)
    for index, enum in enumerate(message.enum_type):
        schemas[f"{name}.{enum.name}"] = _enum_schema(enum, notes.get((*path, 4, index), ""))


def _field_schema(field: FieldProto, maps: dict[str, descriptor_pb2.DescriptorProto]) -> dict[str, Any]:
    entry = maps.get(field.type_name)
    if entry is not None:
        return {"type": "object", "additionalProperties": _scalar(entry.field[1])}
    single = _scalar(field)
    if field.label == FieldProto.LABEL_REPEATED:
        return {"type": "array", "items": single}
    return single


def _scalar(field: FieldProto) -> dict[str, Any]:
    kind = field.type
    if kind in (FieldProto.TYPE_MESSAGE, FieldProto.TYPE_ENUM):
        return _ref(field.type_name)
    if kind == FieldProto.TYPE_STRING:
        return {"type": "string"}
    if kind == FieldProto.TYPE_BOOL:
        return {"type": "boolean"}
    if kind == FieldProto.TYPE_BYTES:
        return {"type": "string", "format": "byte"}
    if kind in (FieldProto.TYPE_DOUBLE, FieldProto.TYPE_FLOAT):
        return {"type": "number", "format": "double" if kind == FieldProto.TYPE_DOUBLE else "float"}
    if kind in _INTEGERS:
        return {"type": "integer", "format": "int32"}
    if kind in _UNSIGNED:
        return {"type": "integer", "format": "int64", "minimum": 0}
    if kind in _LONGS:
        return {"type": "string", "format": "int64"}
    if kind in _ULONGS:
        return {"type": "string", "format": "uint64"}
    raise ValueError(f"field {field.name}: type {kind} has no JSON schema here")


def _enum_schema(enum: descriptor_pb2.EnumDescriptorProto, text: str) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "enum": [value.name for value in enum.value]}
    if text:
        schema["description"] = text
    return schema
