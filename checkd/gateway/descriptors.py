"""The protos compiled to a descriptor set with their comments (for the generated references and checks)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from google.protobuf import descriptor_pb2

PROTO_ROOT = Path(__file__).resolve().parents[2] / "proto"  # in a source checkout
OWN_PREFIX = "checkd/"


def compile_set(
    root: Path = PROTO_ROOT, sources: list[str] | None = None
) -> descriptor_pb2.FileDescriptorSet:
    """Compile checkd's .proto files under `root` with source info, imports included.

    Build-time only: needs grpcio-tools (a development dependency).
    """
    from google.api import annotations_pb2
    from grpc_tools import protoc

    well_known = Path(protoc.__file__).parent / "_proto"
    googleapis = Path(annotations_pb2.__file__).resolve().parents[2]
    names = sources or sorted(str(p.relative_to(root)) for p in (root / "checkd").rglob("*.proto"))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "set.binpb"
        args = [
            "protoc",
            f"-I{root}",
            f"-I{well_known}",
            f"-I{googleapis}",
            "--include_imports",
            "--include_source_info",
            f"--descriptor_set_out={out}",
            *names,
        ]
        if protoc.main(args) != 0:
            raise RuntimeError(f"protoc failed on {names}")
        found = descriptor_pb2.FileDescriptorSet()
        found.ParseFromString(out.read_bytes())
    return found


def own_files(found: descriptor_pb2.FileDescriptorSet) -> list[descriptor_pb2.FileDescriptorProto]:
    """checkd's own files of a set (not google/...), in order."""
    return [f for f in found.file if f.name.startswith(OWN_PREFIX)]


def comments(proto: descriptor_pb2.FileDescriptorProto) -> dict[tuple[int, ...], str]:
    """Leading (else trailing) comments by source path, each on one line; () is the file's own."""
    found: dict[tuple[int, ...], str] = {}
    for location in proto.source_code_info.location:
        text = (location.leading_comments or location.trailing_comments).strip()
        if text:
            found[tuple(location.path)] = " ".join(line.strip() for line in text.splitlines())
    syntax = found.get((12,), "")  # the comment above `syntax = ...` describes the file
    if syntax:
        found[()] = syntax
    return found
