"""Generate the bundled sample list entries (deterministic, seeded) as JSON Lines.

Run from the repository root:

    python scripts/make_sample.py > checkd/data/sample_entries.jsonl
    python scripts/make_sample.py checkd/data/sample_entries.jsonl

The first ten lines are a fixed, hand-picked set that tests rely on (see FIXED_* below); the
rest (about 290 entries) is drawn with random.Random(2026), so every run writes the same bytes.
All identifiers are synthetic and built with the checkd.ids check-character functions.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from checkd.subjects.ids import (
    IdKind,
    business_reg_check_digit,
    org_code_check_char,
    parse_identifier,
    resident_check_char,
    uscc_check_char,
)

SEED = 2026
REFERENCE_DAY = dt.date(2026, 11, 28)  # tests evaluate "as of" around this day
FIRST_START = dt.date(2023, 1, 1)
LAST_START = dt.date(2026, 10, 31)

# ------------------------------------------------------------------------------ fixed subjects

FIXED_E1 = "91330402MA2B8K1C34"  # S0001 serious_illegal_dishonest in force (+ legal rep)
FIXED_E2 = "91330411MA28A7Q319"  # S0002 red_list in force
FIXED_E3 = "91330481MA2CJ5N05D"  # S0003 serious_illegal_dishonest, expired 2025-06-30
FIXED_E4 = "91330424MA29XD6TXD"  # S0005 red_list + S0006 judgment_defaulter, both in force
FIXED_P1 = "330402198503151239"  # S0004 judgment_defaulter in force
FIXED_P2 = "330411197809212032"  # legal representative of FIXED_E1 (listed nowhere itself)


def _fixed_entries() -> list[dict[str, Any]]:
    """The hand-picked first lines; their subjects appear nowhere else in the file."""
    return [
        {
            "entry_id": "S0001",
            "subject_id": FIXED_E1,
            "subject_type": "enterprise",
            "subject_name": "嘉兴市南湖区恒信建材有限公司",
            "list": "serious_illegal_dishonest",
            "authority": "嘉兴市市场监督管理局",
            "document_no": "嘉市监严〔2025〕12号",
            "level": "municipal",
            "start": "2025-01-01",
            "end": None,
            "reason": "提交虚假材料取得公司登记，情节严重",
            "severity": "",
            "legal_representative_id": FIXED_P2,
            "legal_representative_name": "沈建华",
        },
        {
            "entry_id": "S0002",
            "subject_id": FIXED_E2,
            "subject_type": "enterprise",
            "subject_name": "嘉兴市秀洲区禾丰科技有限公司",
            "list": "red_list",
            "authority": "浙江省市场监督管理局",
            "document_no": "浙市监信〔2025〕8号",
            "level": "provincial",
            "start": "2025-03-01",
            "end": "2027-02-28",
            "reason": "浙江省守合同重信用AAA级企业",
            "severity": "",
        },
        {
            "entry_id": "S0003",
            "subject_id": FIXED_E3,
            "subject_type": "enterprise",
            "subject_name": "海宁市鑫源皮革制品有限公司",
            "list": "serious_illegal_dishonest",
            "authority": "海宁市市场监督管理局",
            "document_no": "海宁市监严〔2023〕5号",
            "level": "county",
            "start": "2023-07-01",
            "end": "2025-06-30",
            "reason": "拒不履行行政处罚决定，情节严重",
            "severity": "",
        },
        {
            "entry_id": "S0004",
            "subject_id": FIXED_P1,
            "subject_type": "person",
            "subject_name": "张伟",
            "list": "judgment_defaulter",
            "authority": "嘉兴市南湖区人民法院",
            "document_no": "(2025)浙0402执1288号",
            "level": "county",
            "start": "2025-05-20",
            "end": None,
            "reason": "有履行能力而拒不履行生效法律文书确定的义务",
            "severity": "",
        },
        {
            "entry_id": "S0005",
            "subject_id": FIXED_E4,
            "subject_type": "enterprise",
            "subject_name": "海盐县华达紧固件有限公司",
            "list": "red_list",
            "authority": "浙江省人力资源和社会保障厅",
            "document_no": "浙人社发〔2025〕21号",
            "level": "provincial",
            "start": "2025-06-01",
            "end": "2028-05-31",
            "reason": "浙江省和谐劳动关系先进企业",
            "severity": "",
        },
        {
            "entry_id": "S0006",
            "subject_id": FIXED_E4,
            "subject_type": "enterprise",
            "subject_name": "海盐县华达紧固件有限公司",
            "list": "judgment_defaulter",
            "authority": "海盐县人民法院",
            "document_no": "(2026)浙0424执356号",
            "level": "county",
            "start": "2026-02-10",
            "end": None,
            "reason": "违反财产报告制度",
            "severity": "",
        },
        *[
            {
                "entry_id": f"S{7 + i:04d}",
                "subject_id": uscc,
                "subject_type": "enterprise",
                "subject_name": name,
                "list": "market_credit_level",
                "authority": "嘉兴市市场监督管理局",
                "document_no": "嘉市监信〔2026〕3号",
                "level": "municipal",
                "start": "2026-01-01",
                "end": None,
                "reason": "企业信用风险分类结果",
                "severity": grade,
            }
            for i, (uscc, name, grade) in enumerate(
                [
                    (FIXED_E1, "嘉兴市南湖区恒信建材有限公司", "D"),
                    (FIXED_E2, "嘉兴市秀洲区禾丰科技有限公司", "A"),
                    (FIXED_E3, "海宁市鑫源皮革制品有限公司", "B"),
                    (FIXED_E4, "海盐县华达紧固件有限公司", "B"),
                ]
            )
        ],
    ]


# ------------------------------------------------------------------------------ places, names


@dataclass(frozen=True)
class Place:
    """A registering division in Jiaxing, with the names its authorities use."""

    code: str
    name: str  # as used in organisation names: 嘉兴市南湖区 / 海宁市
    short: str  # document-number abbreviation: 南 / 海宁
    county_name: str  # 南湖区 / 海宁市 / 嘉善县
    level: str


CITY = Place("330400", "嘉兴市", "嘉", "嘉兴市", "municipal")
COUNTIES = [
    Place("330402", "嘉兴市南湖区", "南", "南湖区", "county"),
    Place("330411", "嘉兴市秀洲区", "秀", "秀洲区", "county"),
    Place("330421", "嘉善县", "善", "嘉善县", "county"),
    Place("330424", "海盐县", "盐", "海盐县", "county"),
    Place("330481", "海宁市", "海宁", "海宁市", "county"),
    Place("330482", "平湖市", "平湖", "平湖市", "county"),
    Place("330483", "桐乡市", "桐乡", "桐乡市", "county"),
]
PLACES = [CITY, *COUNTIES]
MIGRANT_ADDRESSES = ["340123", "341221", "412722", "513021", "522121", "362330", "430523"]

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许沈钱朱褚蒋韩冯曹彭"
GIVEN = [
    "伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰",
    "娟", "涛", "明", "超", "秀兰", "霞", "平", "刚", "桂英", "建华", "志强", "海燕",
    "晓东", "佳怡", "浩然", "国平", "美华", "永明", "雪梅", "振宇", "立新", "春燕",
]  # fmt: skip
HMT_NAMES = ["陈家豪", "黄嘉欣", "林志明", "梁慧敏", "何俊杰", "吴淑芬"]
FOREIGN_NAMES = ["马克·韦伯", "安娜·科瓦奇", "金成勋", "山田健一"]
TRADE_NAMES = [
    "禾丰", "恒盛", "鑫源", "华达", "嘉诚", "瑞祥", "宏远", "新纪元", "永兴", "天成", "浙秀",
    "南湖", "明辉", "金桥", "润泽", "海川", "东方", "汇通", "盛达", "卓越", "锦程", "星河",
    "立信", "荣发", "顺昌", "博远", "正泰", "三友", "蓝海", "百川",
]  # fmt: skip
INDUSTRIES = [
    "科技", "纺织", "建设工程", "物流", "食品", "新材料", "机械制造", "贸易", "电子",
    "服饰", "皮革制品", "紧固件", "光伏", "医疗器械", "环保科技", "包装", "家具", "化纤",
]  # fmt: skip
SHOP_KINDS = ["小吃店", "副食品店", "五金店", "理发店", "便利店", "汽车修理部"]
COOP_KINDS = ["果蔬专业合作社", "水产养殖专业合作社", "粮油专业合作社", "蚕桑专业合作社"]
AGENCY_DEPTS = [
    "住房和城乡建设局", "交通运输局", "教育局", "卫生健康委员会", "民政局", "自然资源和规划局",
    "农业农村局", "文化广电旅游局", "应急管理局", "水利局",
]  # fmt: skip
INSTITUTIONS = [
    "第一医院", "中医院", "实验小学", "第一中学", "公共资源交易中心", "疾病预防控制中心",
    "图书馆", "职业技术学校", "不动产登记服务中心", "妇幼保健院",
]  # fmt: skip
SOCIETIES = [
    ("51", "物流行业协会"), ("51", "建筑业协会"), ("51", "个体劳动者协会"), ("51", "慈善总会"),
    ("52", "康乐养老服务中心"), ("52", "启明社会工作服务中心"), ("52", "阳光培训学校"),
    ("53", "教育发展基金会"), ("53", "红船公益基金会"),
]  # fmt: skip
USCC_BODY = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_BODY_NO_X = USCC_BODY.replace("X", "")


# ------------------------------------------------------------------------------ subjects


@dataclass(frozen=True)
class Subject:
    """A synthetic subject: identifier, type, name, home place."""

    subject_id: str
    subject_type: str
    name: str
    place: Place


class Generator:
    """Draws subjects and entries from one seeded random stream."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used_ids: set[str] = {FIXED_E1, FIXED_E2, FIXED_E3, FIXED_E4, FIXED_P1, FIXED_P2}
        self.used_names: set[str] = set()
        self.entries: list[dict[str, Any]] = []

    # identifiers ------------------------------------------------------------------------
    def _unique(self, make: Any) -> str:
        while True:
            value = str(make())
            if value not in self.used_ids:
                self.used_ids.add(value)
                return value

    def uscc(self, head: str, place: Place) -> str:
        """A USCC for registration-type `head` (e.g. '91') registered in `place`."""

        def make() -> str:
            # post-2015 organisation codes: 'MA' + 6 characters for market-regulation registrants,
            # 8 digits for older public bodies (their old GB 11714 codes were numeric)
            if head[0] in "9N":
                body = "MA" + "".join(self.rng.choice(USCC_BODY_NO_X) for _ in range(6))
            else:
                body = "".join(self.rng.choice("0123456789") for _ in range(8))
            first17 = head + place.code + body + org_code_check_char(body)
            return first17 + uscc_check_char(first17)

        return self._unique(make)

    def person_id(self, address: str, lo: int = 1955, hi: int = 2002) -> str:
        """An 18-character person number with a real birth date and check character."""

        def make() -> str:
            born = dt.date(lo, 1, 1) + dt.timedelta(
                days=self.rng.randrange((dt.date(hi, 12, 31) - dt.date(lo, 1, 1)).days)
            )
            first17 = address + born.strftime("%Y%m%d") + f"{self.rng.randrange(1000):03d}"
            return first17 + resident_check_char(first17)

        return self._unique(make)

    def legacy_person_id(self, address: str) -> str:
        """A 15-digit pre-1999 number that is NOT also a valid business registration number."""

        def make() -> str:
            while True:
                born = dt.date(1950, 1, 1) + dt.timedelta(days=self.rng.randrange(15000))
                value = address + born.strftime("%y%m%d") + f"{self.rng.randrange(1000):03d}"
                if business_reg_check_digit(value[:14]) != value[14]:
                    return value

        return self._unique(make)

    def person_name(self) -> str:
        """A common two- or three-character Chinese name."""
        return self.rng.choice(SURNAMES) + self.rng.choice(GIVEN)

    def _unique_name(self, make: Any) -> str:
        for _ in range(100):
            name = str(make())
            if name not in self.used_names:
                self.used_names.add(name)
                return name
        raise RuntimeError("ran out of names")

    # subject pools ----------------------------------------------------------------------
    def enterprises(self, n: int) -> list[Subject]:
        """Companies (91), individual businesses (92) and farmers' cooperatives (93)."""
        out = []
        for i in range(n):
            place = self.rng.choice(PLACES)
            head = "92" if i % 10 == 8 else "93" if i % 10 == 9 else "91"
            if head == "91":
                name = self._unique_name(
                    lambda place=place: (
                        place.name
                        + self.rng.choice(TRADE_NAMES)
                        + self.rng.choice(INDUSTRIES)
                        + self.rng.choice(["有限公司", "有限公司", "股份有限公司"])
                    )
                )
            elif head == "92":
                name = self._unique_name(
                    lambda place=place: (
                        place.county_name + self.rng.choice(SURNAMES) + "记" + self.rng.choice(SHOP_KINDS)
                    )
                )
            else:
                name = self._unique_name(
                    lambda place=place: (
                        place.county_name + self.rng.choice(TRADE_NAMES) + self.rng.choice(COOP_KINDS)
                    )
                )
            out.append(Subject(self.uscc(head, place), "enterprise", name, place))
        return out

    def persons(self, n: int) -> list[Subject]:
        """Mostly local residents, some migrant workers, a few HMT and foreign residents."""
        out = []
        for i in range(n):
            place = self.rng.choice(PLACES)
            if i % 12 == 10:
                sid = self.person_id(self.rng.choice(["810000", "820000", "830000"]))
                name = self.rng.choice(HMT_NAMES)
            elif i % 12 == 11:
                sid = self.person_id("9" + self.rng.choice(["33", "31", "44"]) + "156")
                name = self.rng.choice(FOREIGN_NAMES)
            elif i % 4 == 3:
                sid = self.person_id(self.rng.choice(MIGRANT_ADDRESSES))
                name = self.person_name()
            else:
                address = place.code if place is not CITY else "330401"
                sid = self.person_id(address)
                name = self.person_name()
            out.append(Subject(sid, "person", name, place))
        return out

    def public_bodies(self) -> tuple[list[Subject], list[Subject], list[Subject]]:
        """Government agencies (11), public institutions (12) and social organisations (5x)."""
        agencies, institutions, societies = [], [], []
        for i, dept in enumerate(AGENCY_DEPTS):
            place = CITY if i % 2 == 0 else COUNTIES[i % len(COUNTIES)]
            agencies.append(Subject(self.uscc("11", place), "government_agency", place.name + dept, place))
        for i, inst in enumerate(INSTITUTIONS):
            place = CITY if i % 3 else COUNTIES[i % len(COUNTIES)]
            institutions.append(
                Subject(self.uscc("12", place), "public_institution", place.name + inst, place)
            )
        for i, (head, soc) in enumerate(SOCIETIES):
            place = CITY if i % 2 == 0 else COUNTIES[(i * 3) % len(COUNTIES)]
            societies.append(Subject(self.uscc(head, place), "social_organisation", place.name + soc, place))
        return agencies, institutions, societies

    # dates ------------------------------------------------------------------------------
    def day_between(self, lo: dt.date, hi: dt.date) -> dt.date:
        """A uniformly random day in [lo, hi]."""
        return lo + dt.timedelta(days=self.rng.randrange((hi - lo).days + 1))

    def start(self, lo: dt.date = FIRST_START, hi: dt.date = LAST_START) -> dt.date:
        """A start date inside the sample window."""
        return self.day_between(max(lo, FIRST_START), min(hi, LAST_START))

    @staticmethod
    def plus_months(day: dt.date, months: int) -> dt.date:
        """`day` plus whole months, minus one day (a period's last day)."""
        y, m = divmod(day.month - 1 + months, 12)
        year, month = day.year + y, m + 1
        for d in (day.day, 30, 29, 28):
            try:
                return dt.date(year, month, d) - dt.timedelta(days=1)
            except ValueError:
                continue
        raise AssertionError("unreachable")

    # entries ----------------------------------------------------------------------------
    def add(
        self,
        subject: Subject,
        list_id: str,
        authority: tuple[str, str, str],
        start: dt.date,
        end: dt.date | None,
        *,
        reason: str,
        severity: str = "",
        legal_rep: Subject | None = None,
    ) -> None:
        """Append one entry (authority = (name, document prefix, level))."""
        name, prefix, level = authority
        if prefix.startswith("("):
            doc = prefix.format(year=start.year, n=self.rng.randrange(100, 3000))
        else:
            doc = f"{prefix}〔{start.year}〕{self.rng.randrange(1, 300)}号"
        entry: dict[str, Any] = {
            "entry_id": "",
            "subject_id": subject.subject_id,
            "subject_type": subject.subject_type,
            "subject_name": subject.name,
            "list": list_id,
            "authority": name,
            "document_no": doc,
            "level": level,
            "start": start.isoformat(),
            "end": end.isoformat() if end else None,
            "reason": reason,
            "severity": severity,
        }
        if legal_rep is not None:
            entry["legal_representative_id"] = legal_rep.subject_id
            entry["legal_representative_name"] = legal_rep.name
        self.entries.append(entry)


# ------------------------------------------------------------------------------ authorities


def market_reg(place: Place, kind: str) -> tuple[str, str, str]:
    """A market-regulation authority of `place` and its document prefix for `kind`."""
    if place is CITY:
        return ("嘉兴市市场监督管理局", f"嘉市监{kind}", "municipal")
    return (f"{place.name}市场监督管理局", f"{place.short}市监{kind}", "county")


def court(place: Place) -> tuple[str, str, str]:
    """The court of `place` and its enforcement case-number pattern."""
    if place is CITY:
        return ("嘉兴市中级人民法院", "({year})浙04执{n}号", "municipal")
    return (f"{place.name}人民法院", f"({{year}})浙{place.code[2:]}执{{n}}号", "county")


def tax(place: Place, kind: str) -> tuple[str, str, str]:
    """A tax bureau of `place`."""
    if place is CITY:
        return ("国家税务总局嘉兴市税务局", f"嘉税{kind}", "municipal")
    return (f"国家税务总局{place.name}税务局", f"{place.short}税{kind}", "county")


def hr(place: Place) -> tuple[str, str, str]:
    """A human resources and social security bureau of `place`."""
    if place is CITY:
        return ("嘉兴市人力资源和社会保障局", "嘉人社", "municipal")
    return (f"{place.name}人力资源和社会保障局", f"{place.short}人社", "county")


CREDIT_CITY = ("嘉兴市发展和改革委员会", "嘉发改信用", "municipal")
CREDIT_PROVINCE = ("浙江省发展和改革委员会", "浙发改信用", "provincial")
FINANCE_CITY = ("嘉兴市财政局", "嘉财采监", "municipal")
FINANCE_PROVINCE = ("浙江省财政厅", "浙财采监", "provincial")
SAMR = ("国家市场监督管理总局", "市监信", "national")
ZJ_MARKET = ("浙江省市场监督管理局", "浙市监信", "provincial")
ZJ_HR = ("浙江省人力资源和社会保障厅", "浙人社发", "provincial")
CIVIL_AFFAIRS = ("嘉兴市民政局", "嘉民", "municipal")
CIVILISATION = ("嘉兴市精神文明建设委员会办公室", "嘉文明办", "municipal")
NDRC = ("国家发展和改革委员会", "发改办财金", "national")
COMMITMENT_AUTHORITIES = [
    ("嘉兴市住房和城乡建设局", "嘉建", "municipal"),
    ("嘉兴市交通运输局", "嘉交", "municipal"),
    ("嘉兴市行政审批局", "嘉审批", "municipal"),
    ("嘉兴市人力资源和社会保障局", "嘉人社", "municipal"),
]


# ------------------------------------------------------------------------------ generation


def enterprise(subject: Subject) -> bool:
    """True for enterprises (market regulation's lists hold only them)."""
    return subject.subject_type == "enterprise"


def generate() -> Iterator[dict[str, Any]]:
    """All sample entries, fixed set first, then the seeded random part."""
    rng = random.Random(SEED)
    g = Generator(rng)
    enterprises = g.enterprises(60)
    persons = g.persons(48)
    agencies, institutions, societies = g.public_bodies()
    legacy = [Subject(g.legacy_person_id(p.code), "person", g.person_name(), p) for p in COUNTIES[:2]]
    organisations = agencies + institutions + societies
    ordinary = [e for e in enterprises if e.subject_id[1] == "1"]
    pick = rng.sample

    # market_credit_level: every enterprise has one current grade
    for e in enterprises:
        g.add(
            e,
            "market_credit_level",
            market_reg(CITY, "信"),
            g.start(dt.date(2025, 12, 1)),
            None,
            reason="企业信用风险分类结果",
            severity=rng.choices("ABCD", weights=[25, 50, 18, 7])[0],
        )

    # tax_credit_level: annual grades published in April; some subjects also have last year's
    tax_grades, tax_weights = ["A", "B", "M", "C", "D"], [30, 40, 15, 10, 5]
    for e in pick(ordinary, 35):
        g.add(
            e,
            "tax_credit_level",
            tax(CITY, "信"),
            dt.date(2026, 4, rng.randrange(1, 30)),
            dt.date(2027, 3, 31),
            reason="2025年度纳税信用评价结果",
            severity=rng.choices(tax_grades, weights=tax_weights)[0],
        )
        if rng.random() < 0.4:
            g.add(
                e,
                "tax_credit_level",
                tax(CITY, "信"),
                dt.date(2025, 4, rng.randrange(1, 30)),
                dt.date(2026, 3, 31),
                reason="2024年度纳税信用评价结果",
                severity=rng.choices(tax_grades, weights=tax_weights)[0],
            )

    # legal representatives come from the person pool (some of them are listed themselves)
    reps = persons[:30]

    def rep(s: Subject) -> Subject | None:
        return rng.choice(reps) if s.subject_type == "enterprise" and rng.random() < 0.6 else None

    serious_reasons = [
        "提交虚假材料取得公司登记，情节严重",
        "食品安全严重违法，被处以较大数额罚款",
        "拒不履行行政处罚决定，情节严重",
        "生产销售伪劣产品，情节严重",
        "侵犯知识产权，情节严重",
    ]
    for s in pick(ordinary, 15) + pick(societies, 2):
        start = g.start()
        g.add(
            s,
            # social organisations are registered by civil affairs, which keeps its own list
            "serious_illegal_dishonest" if enterprise(s) else "social_organisation_dishonest",
            market_reg(s.place, "严") if s.subject_type == "enterprise" else CIVIL_AFFAIRS,
            start,
            rng.choice([None, g.plus_months(start, 36) if enterprise(s) else None, g.plus_months(start, 12)]),
            reason=rng.choice(serious_reasons)
            if s.subject_type == "enterprise"
            else "社会组织严重违法失信，被依法撤销登记",
            legal_rep=rep(s),
        )

    defaulter_reasons = [
        "有履行能力而拒不履行生效法律文书确定的义务",
        "以伪造证据、暴力、威胁等方法妨碍、抗拒执行",
        "违反财产报告制度",
        "违反限制消费令",
    ]
    for s in pick(persons[10:], 22) + legacy + pick(enterprises, 10):
        start = g.start()
        g.add(
            s,
            "judgment_defaulter",
            court(s.place),
            start,
            None if rng.random() < 0.7 else start + dt.timedelta(days=rng.randrange(60, 700)),
            reason=rng.choice(defaulter_reasons),
            legal_rep=rep(s),
        )

    for s in pick(ordinary, 8) + pick(persons[20:], 6):
        start = g.start()
        g.add(
            s,
            "wage_arrears_dishonest",
            hr(s.place),
            start,
            rng.choice([g.plus_months(start, 12), g.plus_months(start, 36), None]),
            reason="克扣、无故拖欠劳动者劳动报酬，数额较大"
            if s.subject_type == "enterprise"
            else "作为包工头拖欠农民工工资，经责令仍不支付",
            legal_rep=rep(s),
        )

    for s in pick(ordinary, 9):
        start = g.start()
        g.add(
            s,
            "tax_major_violation",
            tax(s.place, "稽罚"),
            start,
            rng.choice([g.plus_months(start, 36), g.plus_months(start, 24)]),
            reason=rng.choice(["虚开增值税专用发票", "偷税数额较大", "骗取出口退税"]),
            legal_rep=rep(s),
        )

    procurement_reasons = [
        "提供虚假材料谋取中标",
        "与其他供应商恶意串通",
        "中标后无正当理由拒不签订合同",
    ]
    for s in pick(ordinary, 7):
        start = g.start()
        g.add(
            s,
            "procurement_bad_record",
            rng.choice([FINANCE_CITY, FINANCE_CITY, FINANCE_PROVINCE]),
            start,
            g.plus_months(start, rng.choice([12, 24, 36])),
            reason=rng.choice(procurement_reasons),
        )

    abnormal_reasons = ["通过登记的住所或者经营场所无法联系", "未按规定期限公示年度报告"]
    for s in pick(enterprises, 15):
        start = g.start()
        g.add(
            s,
            "abnormal_operation",
            market_reg(s.place, "异"),
            start,
            None if rng.random() < 0.6 else start + dt.timedelta(days=rng.randrange(30, 400)),
            reason=rng.choice(abnormal_reasons),
        )

    person_honours = ["嘉兴市道德模范", "最美嘉兴人", "见义勇为先进个人"]
    enterprise_honours = ["守合同重信用企业", "诚信纳税示范企业", "和谐劳动关系先进单位"]
    for s in pick(ordinary, 14) + pick(organisations, 12) + pick(persons[:30], 9):
        start = g.start()
        if s.subject_type == "person":
            authority, reason = CIVILISATION, rng.choice(person_honours)
        elif s.subject_type == "enterprise":
            authority = rng.choice([SAMR, ZJ_MARKET, ZJ_HR, CREDIT_CITY])
            reason = rng.choice(enterprise_honours)
        else:
            authority, reason = rng.choice([CREDIT_CITY, CREDIT_PROVINCE, NDRC]), "诚信建设示范单位"
        period_end = g.plus_months(start, rng.choice([24, 36]))
        g.add(s, "red_list", authority, start, period_end, reason=reason)

    grades = ["excellent", "good", "fair", "poor"]
    # the provincial public credit grade covers enterprises, persons, institutions and societies,
    # not government agencies (those are assessed under government integrity instead)
    for s in institutions + societies + pick(ordinary, 12):
        start = g.start(dt.date(2025, 1, 1))
        g.add(
            s,
            "public_credit_grade",
            rng.choice([CREDIT_CITY, CREDIT_CITY, CREDIT_PROVINCE]),
            start,
            rng.choice([None, g.plus_months(start, 12)]),
            reason="公共信用综合评价结果",
            severity=rng.choices(grades, weights=[30, 45, 18, 7])[0],
        )

    breach_reasons = [
        "告知承诺制审批后未在承诺期限内补齐材料",
        "信用承诺事项与实际情况不符",
        "未履行容缺受理补正承诺",
    ]
    for s in pick(ordinary, 7) + pick(organisations, 5) + pick(persons[30:], 3):
        start = g.start()
        g.add(
            s,
            "commitment_breach",
            rng.choice(COMMITMENT_AUTHORITIES),
            start,
            g.plus_months(start, 12),
            reason=rng.choice(breach_reasons),
        )

    # legacy department data keyed by the bare organisation code of an enterprise that the file
    # also lists by USCC (the USCC <-> organisation code cross-walk must join them)
    for e in ordinary[:2]:
        org = Subject(e.subject_id[8:17], "enterprise", e.name, e.place)
        start = g.start(dt.date(2024, 1, 1))
        g.add(
            org,
            "abnormal_operation",
            market_reg(e.place, "异"),
            start,
            None,
            reason="未按规定期限公示年度报告",
        )

    fixed = _fixed_entries()
    yield from fixed
    for i, entry in enumerate(g.entries, start=len(fixed) + 1):
        entry["entry_id"] = f"S{i:04d}"
        yield entry


def _check(entry: dict[str, Any]) -> None:
    """Fail loudly if the generator produced an invalid identifier or period."""
    ident = parse_identifier(entry["subject_id"])  # no declaration needed: none is ambiguous
    assert ident.value == entry["subject_id"] or ident.kind is IdKind.RESIDENT_ID, entry
    assert ident.subject_type.value == entry["subject_type"], entry
    if "legal_representative_id" in entry:
        assert parse_identifier(entry["legal_representative_id"]).is_person, entry
    assert FIRST_START.isoformat() <= entry["start"] <= LAST_START.isoformat(), entry
    assert entry["end"] is None or entry["end"] >= entry["start"], entry


def main(argv: list[str]) -> int:
    """Write the sample to argv[1] if given, else to stdout."""
    lines = []
    for entry in generate():
        _check(entry)
        lines.append(json.dumps(entry, ensure_ascii=False, separators=(", ", ": ")))
    text = "\n".join(lines) + "\n"
    if len(argv) > 1:
        Path(argv[1]).write_text(text, encoding="utf-8")
    else:
        sys.stdout.reconfigure(encoding="utf-8")  # type: ignore[union-attr]
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
