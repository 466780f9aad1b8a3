"""Build a release's descriptor set from its tagged protos: python scripts/gen_compat.py v0.1.0."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def build(tag: str) -> Path:
    """Compile `git show TAG:proto/...` into proto/compat/TAG.binpb (imports excluded: checkd's own files)."""
    from google.protobuf import descriptor_pb2

    from checkd.gateway.descriptors import compile_set, own_files

    names = subprocess.run(
        ["git", "ls-tree", "-r", "--name-only", tag, "proto/checkd"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name in names:
            text = subprocess.run(
                ["git", "show", f"{tag}:{name}"], cwd=ROOT, check=True, capture_output=True
            ).stdout
            target = root / Path(name).relative_to("proto")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(text)
        found = compile_set(root)
    kept = descriptor_pb2.FileDescriptorSet(file=own_files(found))
    for file in kept.file:
        file.ClearField("source_code_info")  # comments are not part of the contract
    out = ROOT / "proto" / "compat" / f"{tag}.binpb"
    out.write_bytes(kept.SerializeToString(deterministic=True))
    return out


if __name__ == "__main__":
    print(build(sys.argv[1] if len(sys.argv) > 1 else "v0.1.0").relative_to(ROOT))
