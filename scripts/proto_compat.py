"""Breaking-change check: the current protos keep everything a released descriptor set has.

python scripts/proto_compat.py [proto/compat/v0.1.0.binpb ...]: prints every break, exits 1 on any.
Kept: every file and package; every message (nested too) with each field number's name, type,
label and message/enum type; every enum value number's name; every service and method with its
request, response and streaming. Additions are free.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

from google.protobuf import descriptor_pb2

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

Message = descriptor_pb2.DescriptorProto
Enum = descriptor_pb2.EnumDescriptorProto


def load(path: Path) -> descriptor_pb2.FileDescriptorSet:
    """A committed descriptor set."""
    found = descriptor_pb2.FileDescriptorSet()
    found.ParseFromString(path.read_bytes())
    return found


def current() -> descriptor_pb2.FileDescriptorSet:
    """The working tree's protos, compiled."""
    from checkd.gateway.descriptors import compile_set, own_files

    return descriptor_pb2.FileDescriptorSet(file=own_files(compile_set()))


def _messages(prefix: str, messages: list[Message]) -> Iterator[tuple[str, Message]]:
    for message in messages:
        name = f"{prefix}.{message.name}"
        yield name, message
        yield from _messages(name, list(message.nested_type))


def _enums(prefix: str, messages: list[Message], enums: list[Enum]) -> Iterator[tuple[str, Enum]]:
    for enum in enums:
        yield f"{prefix}.{enum.name}", enum
    for message in messages:
        yield from _enums(f"{prefix}.{message.name}", list(message.nested_type), list(message.enum_type))


def _index(found: descriptor_pb2.FileDescriptorSet) -> dict[str, dict[str, object]]:
    files = {f.name: f for f in found.file}
    messages: dict[str, object] = {}
    enums: dict[str, object] = {}
    services: dict[str, object] = {}
    for file in found.file:
        messages.update(_messages(file.package, list(file.message_type)))
        enums.update(_enums(file.package, list(file.message_type), list(file.enum_type)))
        services.update({f"{file.package}.{s.name}": s for s in file.service})
    return {"files": dict(files), "messages": messages, "enums": enums, "services": services}


def breaks(old: descriptor_pb2.FileDescriptorSet, new: descriptor_pb2.FileDescriptorSet) -> list[str]:
    """Every way `new` fails to keep `old`'s contract (empty: compatible)."""
    was, now = _index(old), _index(new)
    found: list[str] = []
    for name, file in was["files"].items():
        kept = now["files"].get(name)
        assert isinstance(file, descriptor_pb2.FileDescriptorProto)
        if not isinstance(kept, descriptor_pb2.FileDescriptorProto):
            found.append(f"file {name} removed")
        elif kept.package != file.package:
            found.append(f"file {name}: package {file.package} became {kept.package}")
    for name, message in was["messages"].items():
        assert isinstance(message, Message)
        kept_message = now["messages"].get(name)
        if not isinstance(kept_message, Message):
            found.append(f"message {name} removed")
            continue
        fields = {f.number: f for f in kept_message.field}
        for field in message.field:
            other = fields.get(field.number)
            where = f"{name} field {field.number} ({field.name})"
            if other is None:
                found.append(f"{where} removed")
                continue
            for aspect in ("name", "type", "label", "type_name"):
                if getattr(other, aspect) != getattr(field, aspect):
                    found.append(
                        f"{where}: {aspect} {getattr(field, aspect)!r} became {getattr(other, aspect)!r}"
                    )
    for name, enum in was["enums"].items():
        assert isinstance(enum, Enum)
        kept_enum = now["enums"].get(name)
        if not isinstance(kept_enum, Enum):
            found.append(f"enum {name} removed")
            continue
        values = {v.number: v.name for v in kept_enum.value}
        for value in enum.value:
            if values.get(value.number) != value.name:
                found.append(
                    f"enum {name} value {value.number} ({value.name}) became {values.get(value.number)}"
                )
    for name, service in was["services"].items():
        assert isinstance(service, descriptor_pb2.ServiceDescriptorProto)
        kept_service = now["services"].get(name)
        if not isinstance(kept_service, descriptor_pb2.ServiceDescriptorProto):
            found.append(f"service {name} removed")
            continue
        methods = {m.name: m for m in kept_service.method}
        for method in service.method:
            other_method = methods.get(method.name)
            if other_method is None:
                found.append(f"{name}.{method.name} removed")
                continue
            for aspect in ("input_type", "output_type", "client_streaming", "server_streaming"):
                if getattr(other_method, aspect) != getattr(method, aspect):
                    found.append(f"{name}.{method.name}: {aspect} changed")
    return found


def main(paths: list[Path]) -> int:
    """Check the working tree against each committed release; print the breaks."""
    now = current()
    failed = 0
    for path in paths:
        problems = breaks(load(path), now)
        for problem in problems:
            print(f"{path.name}: {problem}")
        failed += len(problems)
        if not problems:
            print(f"{path.name}: compatible")
    return 1 if failed else 0


if __name__ == "__main__":
    given = [Path(p) for p in sys.argv[1:]] or sorted((ROOT / "proto" / "compat").glob("*.binpb"))
    raise SystemExit(main(given))
