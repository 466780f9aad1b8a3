"""Summarise a py-spy `--format raw` profile: which functions cost what share of the samples.

py-spy record --pid PID --duration 20 --format raw -o checkd.collapsed
python -m bench.profile_top checkd.collapsed --within BatchCheck --top 25
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

_FRAME = re.compile(r"^(?P<name>.+?) \((?P<file>[^:()]+)(?::\d+)?\)$")


def _function(frame: str) -> str:
    """`name (path/to/module.py:12)` -> `module.py:name` (line dropped so one function is one row)."""
    match = _FRAME.match(frame.strip())
    if match is None:
        return frame.strip()
    return f"{Path(match['file']).name}:{match['name']}"


def summarise(path: Path, within: str = "") -> tuple[int, Counter[str], Counter[str]]:
    """(total samples, inclusive samples per function, self samples per function)."""
    total = 0
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        frames = [_function(f) for f in stack.split(";")[1:]]  # the first frame names the process
        frames = [f for f in frames if not f.startswith("thread (")]
        if within:
            cut = next((i for i, f in enumerate(frames) if f.endswith(":" + within)), None)
            if cut is None:
                continue
            frames = frames[cut:]
        count = int(count_text)
        total += count
        for function in set(frames):
            inclusive[function] += count
        if frames:
            own[frames[-1]] += count
    return total, inclusive, own


def main(argv: list[str] | None = None) -> int:
    """Print the top functions by inclusive and by self share."""
    parser = argparse.ArgumentParser(prog="python -m bench.profile_top", description=__doc__)
    parser.add_argument("profile", type=Path)
    parser.add_argument("--within", default="", help="only stacks through this function (e.g. BatchCheck)")
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)
    total, inclusive, own = summarise(args.profile, args.within)
    print(f"{total} samples{' within ' + args.within if args.within else ''}")
    print("inclusive:")
    for function, count in inclusive.most_common(args.top):
        print(f"  {100 * count / max(total, 1):5.1f}%  {function}")
    print("self:")
    for function, count in own.most_common(args.top):
        print(f"  {100 * count / max(total, 1):5.1f}%  {function}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
