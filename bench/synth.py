"""Deterministic synthetic subjects and list entries at city / province scale, as interchange JSON Lines.

Every identifier is a pure function of its index (so the load generators can name the same subjects
without reading the data back) and carries a valid check character from checkd.subjects.ids. Which subject is
on which list is a pure function of (seed, index). Run as a module:

    python -m bench.synth --scale city --out /tmp/city.jsonl --db sqlite:////tmp/city.db
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from checkd.subjects.ids import USCC_ALPHABET, org_code_check_char, resident_check_char, uscc_check_char

ROOT = Path(__file__).resolve().parent.parent
BENCH_SECRET = "bench-secret-0123456789abcdef"  # the personal-data key of every bench store


@dataclass(frozen=True, slots=True)
class Scale:
    """How many organisations and persons a scale holds."""

    name: str
    orgs: int
    persons: int


SCALES = {
    "tiny": Scale("tiny", 300, 3_000),
    "sample": Scale("sample", 2_280, 36_400),
    "city": Scale("city", 228_000, 3_640_000),
    "province": Scale("province", 2_280_000, 36_400_000),
    "national": Scale("national", 22_800_000, 364_000_000),
}

# Organisation kinds by USCC head: (cumulative share, head). 91/92/93 are enterprises.
_ORG_HEADS = ((0.70, "91"), (0.88, "92"), (0.93, "93"), (0.95, "12"), (0.99, "52"), (1.0, "11"))
_ENTERPRISE_HEADS = frozenset({"91", "92", "93"})
_DIVISIONS = (
    "330402",
    "330411",
    "330421",
    "330424",
    "330481",
    "330482",
    "330483",
    "330400",
    "330102",
    "330106",
    "330203",
    "330212",
    "330302",
    "330502",
    "330602",
    "330702",
)
_TOWNS = ("嘉兴市", "海宁市", "平湖市", "桐乡市", "嘉善县", "海盐县", "杭州市", "宁波市")
_WORDS = ("恒信", "禾丰", "鑫源", "华达", "博远", "三友", "正泰", "蓝海", "新纪元", "天成", "立信", "盛达")
_TRADES = ("建材", "科技", "皮革制品", "紧固件", "化纤", "物流", "包装", "光伏", "环保科技", "家具")
_FORMS = {
    "91": "有限公司",
    "92": "便利店",
    "93": "专业合作社",
    "12": "服务中心",
    "52": "协会",
    "11": "管理局",
}
_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁沈"
)
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红文斌宇浩凯"
# Shares of organisations / persons on each list (by kind of subject).
MARKET_LEVELS = ((0.08, "A"), (0.80, "B"), (0.97, "C"), (1.0, "D"))
TAX_LEVELS = ((0.12, "A"), (0.72, "B"), (0.87, "M"), (0.97, "C"), (1.0, "D"))
SERIOUS_RATE, ABNORMAL_RATE, ORG_DEFAULTER_RATE, RED_RATE = 0.02, 0.04, 0.01, 0.01
PERSON_DEFAULTER_RATE, PERSON_RED_RATE = 0.015, 0.002
_BIRTH_DAYS = 25_000  # birth dates spread over 1940-01-01 + 25,000 days


def _unit(i: int, salt: int) -> float:
    """A well-mixed pseudo-random number in [0, 1) from (index, salt): cheap and stateless."""
    x = (i * 0x9E3779B1 + salt * 0x85EBCA77 + 0x165667B1) & 0xFFFFFFFF
    x ^= x >> 15
    x = (x * 0x2C1B3C6D) & 0xFFFFFFFF
    x ^= x >> 12
    x = (x * 0x297A2D39) & 0xFFFFFFFF
    x ^= x >> 15
    return x / 4294967296.0


def _pick(u: float, table: tuple[tuple[float, str], ...]) -> str:
    for bound, value in table:
        if u < bound:
            return value
    return table[-1][1]


def _base31(n: int, width: int) -> str:
    chars = []
    for _ in range(width):
        n, digit = divmod(n, 31)
        chars.append(USCC_ALPHABET[digit])
    return "".join(reversed(chars))


@cache
def _birth(day: int) -> str:
    return (dt.date(1940, 1, 1) + dt.timedelta(days=day)).strftime("%Y%m%d")


@cache
def _day(offset: int) -> str:
    return (dt.date(2024, 1, 1) + dt.timedelta(days=offset)).isoformat()


class Population:
    """The subjects of one scale and seed: identifiers, names and list memberships by index."""

    def __init__(self, scale: Scale, seed: int = 1) -> None:
        self.scale = scale
        self.seed = seed
        self._salt = seed * 64

    def org_head(self, i: int) -> str:
        """The USCC head (registration authority + kind) of organisation i."""
        return _pick(_unit(i, self._salt + 1), _ORG_HEADS)

    def org_id(self, i: int) -> str:
        """The USCC of organisation i (valid embedded organisation code and check character)."""
        body = "MA" + _base31(i, 6)
        first17 = self.org_head(i) + _DIVISIONS[i % len(_DIVISIONS)] + body + org_code_check_char(body)
        return first17 + uscc_check_char(first17)

    def org_name(self, i: int) -> str:
        """A plausible registered name of organisation i."""
        head = self.org_head(i)
        return (
            _TOWNS[i % len(_TOWNS)]
            + _WORDS[(i // 8) % len(_WORDS)]
            + _TRADES[(i // 96) % len(_TRADES)]
            + _FORMS[head]
        )

    def person_id(self, i: int) -> str:
        """The 18-digit resident identity number of person i (valid birth date and check digit)."""
        rest, seq = divmod(i, 1000)
        address = _DIVISIONS[(rest // _BIRTH_DAYS) % len(_DIVISIONS)]
        first17 = f"{address}{_birth(rest % _BIRTH_DAYS)}{seq:03d}"
        return first17 + resident_check_char(first17)

    def person_name(self, i: int) -> str:
        """A plausible name of person i."""
        return (
            _SURNAMES[i % len(_SURNAMES)] + _GIVEN[(i // 7) % len(_GIVEN)] + _GIVEN[(i // 211) % len(_GIVEN)]
        )

    def legal_representative(self, i: int) -> int:
        """The person index of organisation i's legal representative."""
        return (i * 7919 + 13) % self.scale.persons

    def listed_persons(self, rate: float, salt: int) -> Iterator[int]:
        """Indices of a `rate` share of persons, stratified so no pass over every person is needed."""
        step = 1 / rate
        width = int(step)  # one pick inside each stratum [j*step, j*step + width): never twice
        for j in range(int(self.scale.persons * rate)):
            yield int(j * step) + int(_unit(j, self._salt + salt) * width)

    def penalised_orgs(self) -> list[int]:
        """Organisations on the serious-dishonesty or judgment-defaulter list (subjects often re-checked)."""
        salt = self._salt
        return [
            i
            for i in range(self.scale.orgs)
            if self.org_head(i) in _ENTERPRISE_HEADS
            and (_unit(i, salt + 4) < SERIOUS_RATE or _unit(i, salt + 7) < ORG_DEFAULTER_RATE)
        ]

    def defaulter_persons(self) -> list[int]:
        """Persons on the judgment-defaulter list."""
        return list(self.listed_persons(PERSON_DEFAULTER_RATE, 9))

    def entries(self) -> Iterator[str]:
        """Every list entry of the population as one JSON Lines row (without the newline)."""
        for i in range(self.scale.orgs):
            yield from self._org_entries(i)
        for i in self.listed_persons(PERSON_RED_RATE, 11):
            yield _row(
                f"REP{i:09d}",
                self.person_id(i),
                "person",
                self.person_name(i),
                "red_list",
                "嘉兴市人民政府",
                f"嘉政发〔2025〕{i % 40 + 1}号",
                "municipal",
                _day(500 + i % 200),
                "",
                "嘉兴市见义勇为先进个人",
                "",
            )
        for i in self.defaulter_persons():
            pid = self.person_id(i)
            start = _day(int(_unit(i, self._salt + 10) * 1000))
            yield _row(
                f"JDP{i:09d}",
                pid,
                "person",
                self.person_name(i),
                "judgment_defaulter",
                "嘉兴市中级人民法院",
                f"(2025)浙04执{i}号",
                "municipal",
                start,
                "",
                "有履行能力而拒不履行生效法律文书确定的义务",
                "",
            )

    def _org_entries(self, i: int) -> Iterator[str]:
        salt = self._salt
        head = self.org_head(i)
        uscc = self.org_id(i)
        name = self.org_name(i)
        enterprise = head in _ENTERPRISE_HEADS
        kind = "enterprise" if enterprise else ""
        if enterprise:
            level = _pick(_unit(i, salt + 2), MARKET_LEVELS)
            yield _row(
                f"MCL{i:09d}",
                uscc,
                kind,
                name,
                "market_credit_level",
                "嘉兴市市场监督管理局",
                f"嘉市监信〔2026〕{i % 300 + 1}号",
                "municipal",
                _day(731 + i % 300),
                "",
                "企业信用风险分类结果",
                level,
            )
            tax = _pick(_unit(i, salt + 3), TAX_LEVELS)
            yield _row(
                f"TCL{i:09d}",
                uscc,
                kind,
                name,
                "tax_credit_level",
                "国家税务总局嘉兴市税务局",
                f"嘉税信〔2026〕{i % 50 + 1}号",
                "municipal",
                "2026-04-15",
                "",
                "2025年度纳税信用评价结果",
                tax,
            )
            if _unit(i, salt + 4) < SERIOUS_RATE:
                rep = self.legal_representative(i)
                yield _row(
                    f"SID{i:09d}",
                    uscc,
                    kind,
                    name,
                    "serious_illegal_dishonest",
                    "嘉兴市市场监督管理局",
                    f"嘉市监严〔2025〕{i % 400 + 1}号",
                    "municipal",
                    _day(int(_unit(i, salt + 5) * 1000)),
                    "",
                    "提交虚假材料取得公司登记，情节严重",
                    "",
                    self.person_id(rep),
                    self.person_name(rep),
                )
            if _unit(i, salt + 6) < ABNORMAL_RATE:
                yield _row(
                    f"ABN{i:09d}",
                    uscc,
                    kind,
                    name,
                    "abnormal_operation",
                    "嘉兴市市场监督管理局",
                    f"嘉市监异〔2025〕{i % 900 + 1}号",
                    "municipal",
                    _day(400 + i % 500),
                    "",
                    "通过登记的住所或者经营场所无法联系",
                    "",
                )
            if _unit(i, salt + 7) < ORG_DEFAULTER_RATE:
                rep = self.legal_representative(i)
                yield _row(
                    f"JDO{i:09d}",
                    uscc,
                    kind,
                    name,
                    "judgment_defaulter",
                    "嘉兴市中级人民法院",
                    f"(2025)浙04执{i}号",
                    "municipal",
                    _day(200 + i % 700),
                    "",
                    "违反财产报告制度",
                    "",
                    self.person_id(rep),
                    self.person_name(rep),
                )
        if _unit(i, salt + 8) < RED_RATE:
            yield _row(
                f"RED{i:09d}",
                uscc,
                kind,
                name,
                "red_list",
                "浙江省市场监督管理局",
                f"浙市监信〔2025〕{i % 90 + 1}号",
                "provincial",
                _day(400 + i % 300),
                "",
                "浙江省守合同重信用AAA级企业",
                "",
            )


def _row(
    entry_id: str,
    subject_id: str,
    subject_type: str,
    name: str,
    list_id: str,
    authority: str,
    document_no: str,
    level: str,
    start: str,
    end: str,
    reason: str,
    severity: str,
    rep_id: str = "",
    rep_name: str = "",
) -> str:
    # Built by formatting, not json.dumps: every value is drawn from fixed pools free of quotes and
    # backslashes, and this is the inner loop of millions of rows.
    end_json = f'"{end}"' if end else "null"
    rep = (
        f', "legal_representative_id": "{rep_id}", "legal_representative_name": "{rep_name}"'
        if rep_id
        else ""
    )
    return (
        f'{{"entry_id": "{entry_id}", "subject_id": "{subject_id}", "subject_type": "{subject_type}", '
        f'"subject_name": "{name}", "list": "{list_id}", "authority": "{authority}", '
        f'"document_no": "{document_no}", "level": "{level}", "start": "{start}", "end": {end_json}, '
        f'"reason": "{reason}", "severity": "{severity}"{rep}}}'
    )


def write_jsonl(population: Population, out: Path) -> Counter[str]:
    """Write every entry of the population to `out`; return the count per list."""
    counts: Counter[str] = Counter()
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", buffering=1 << 20) as handle:
        chunk: list[str] = []
        for line in population.entries():
            chunk.append(line)
            if len(chunk) >= 10_000:
                handle.write("\n".join(chunk) + "\n")
                chunk.clear()
        if chunk:
            handle.write("\n".join(chunk) + "\n")
    with out.open(encoding="utf-8") as handle:  # count by list cheaply from the written text
        for line in handle:
            start = line.index('"list": "') + 9
            counts[line[start : line.index('"', start)]] += 1
    return counts


def import_file(db_url: str, path: Path, timeout: float = 3600) -> tuple[float, str]:
    """Load a JSON Lines file through `checkd import`; return (seconds, its output)."""
    env = {**os.environ, "CHECKD_SECRET": BENCH_SECRET}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "checkd", "import", "--db", db_url, "--rules", str(ROOT / "rules"), str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
        cwd=path.parent,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"checkd import failed ({done.returncode}):\n{done.stderr[-4000:]}")
    return seconds, done.stdout.strip()


def main(argv: list[str] | None = None) -> int:
    """Generate a scale's entries (and optionally import them), printing sizes and times."""
    parser = argparse.ArgumentParser(prog="python -m bench.synth", description=__doc__)
    parser.add_argument("--scale", choices=sorted(SCALES), default="sample")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, required=True, help="JSON Lines file to write")
    parser.add_argument("--db", help="also import the file into this store (SQLAlchemy URL)")
    parser.add_argument(
        "--parts",
        type=int,
        default=1,
        help="import in this many files (one `checkd import` each)",
    )
    args = parser.parse_args(argv)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # progress shows live
    population = Population(SCALES[args.scale], args.seed)
    started = time.perf_counter()
    counts = write_jsonl(population, args.out)
    generated = time.perf_counter() - started
    total = sum(counts.values())
    scale = population.scale
    print(f"scale {args.scale}: {scale.orgs:,} organisations, {scale.persons:,} persons")
    print(
        f"generated {total:,} entries ({args.out.stat().st_size / 1e6:.1f} MB) in {generated:.1f} s "
        f"({total / generated:,.0f} entries/s)"
    )
    for list_id, count in sorted(counts.items()):
        print(f"  {list_id:28} {count:>10,}")
    if args.db:
        parts = split_file(args.out, args.parts) if args.parts > 1 else [args.out]
        seconds = 0.0
        for part in parts:
            took, output = import_file(args.db, part)
            seconds += took
            print(f"checkd import {part.name}: {took:.1f} s: {output}")
        print(f"checkd import: {seconds:.1f} s in all ({total / seconds:,.0f} entries/s)")
    return 0


def split_file(path: Path, parts: int) -> list[Path]:
    """Cut a JSON Lines file into `parts` files of whole lines (one `checkd import` each)."""
    lines = sum(1 for _ in path.open("rb"))
    per = -(-lines // parts)
    out = []
    with path.open("rb") as source:
        for number in range(parts):
            part = path.with_name(f"{path.stem}.part{number:02d}{path.suffix}")
            with part.open("wb") as sink:
                for _, line in zip(range(per), source, strict=False):
                    sink.write(line)
            out.append(part)
    return out


if __name__ == "__main__":
    raise SystemExit(main())
