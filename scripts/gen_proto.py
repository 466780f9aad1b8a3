"""Regenerate the committed stubs in checkd/api/v1 from proto/checkd/v1: python scripts/gen_proto.py."""

from __future__ import annotations

import re
import sys
import tempfile
from importlib import resources
from pathlib import Path

from google.api import annotations_pb2
from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTO_DIR = ROOT / "proto"
DEFAULT_OUT = ROOT / "checkd" / "api" / "v1"
_IMPORT = re.compile(r"^from checkd\.v1 import", re.MULTILINE)


def generate(out_dir: Path) -> list[Path]:
    """Compile every .proto under proto/checkd/v1 into out_dir; return the files written."""
    well_known_dir = resources.files("grpc_tools") / "_proto"
    # google/api/annotations.proto and http.proto, shipped by googleapis-common-protos beside its modules.
    googleapis = Path(annotations_pb2.__file__).resolve().parents[2]
    with resources.as_file(well_known_dir) as well_known, tempfile.TemporaryDirectory() as tmp:
        staging = Path(tmp)
        sources = sorted(str(p) for p in (PROTO_DIR / "checkd" / "v1").glob("*.proto"))
        args = [
            "protoc",
            f"-I{PROTO_DIR}",
            f"-I{well_known}",
            f"-I{googleapis}",
            f"--python_out={staging}",
            f"--pyi_out={staging}",
            f"--grpc_python_out={staging}",
            *sources,
        ]
        if protoc.main(args) != 0:
            raise SystemExit("protoc failed")
        written = []
        out_dir.mkdir(parents=True, exist_ok=True)
        for produced in sorted((staging / "checkd" / "v1").iterdir()):
            # Generated code imports its siblings as `checkd.v1`; they live in checkd.api.v1.
            text = _IMPORT.sub("from checkd.api.v1 import", produced.read_text())
            target = out_dir / produced.name
            target.write_text(text)
            written.append(target)
        return written


if __name__ == "__main__":
    for path in generate(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT):
        print(path)
