"""What the pages show: Chinese labels for the API's enums, figures as tables, CSV and SVG charts."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from html import escape

from markupsafe import Markup

from checkd.api.v1 import check_pb2 as pb
from checkd.api.v1 import registry_pb2 as reg

VERDICTS = {
    pb.VERDICT_UNSPECIFIED: "未定",
    pb.VERDICT_CLEAR: "无异常 clear",
    pb.VERDICT_REWARD: "激励 reward",
    pb.VERDICT_REVIEW: "审慎审查 review",
    pb.VERDICT_RESTRICT: "限制 restrict",
    pb.VERDICT_PROHIBIT: "禁止 prohibit",
}
POLARITIES = {pb.POLARITY_UNSPECIFIED: "中性", pb.POLARITY_REWARD: "激励", pb.POLARITY_PENALTY: "惩戒"}
SUBJECT_TYPES = {
    pb.SUBJECT_TYPE_UNSPECIFIED: "未声明",
    pb.SUBJECT_TYPE_ENTERPRISE: "企业",
    pb.SUBJECT_TYPE_PERSON: "自然人",
    pb.SUBJECT_TYPE_SOCIAL_ORGANISATION: "社会组织",
    pb.SUBJECT_TYPE_PUBLIC_INSTITUTION: "事业单位",
    pb.SUBJECT_TYPE_GOVERNMENT_AGENCY: "机关",
}
ROLES = {
    pb.ROLE_UNSPECIFIED: "主体",
    pb.ROLE_SUBJECT: "主体",
    pb.ROLE_LEGAL_REPRESENTATIVE: "法定代表人",
    pb.ROLE_PRINCIPAL_RESPONSIBLE: "主要负责人",
    pb.ROLE_ACTUAL_CONTROLLER: "实际控制人",
    pb.ROLE_DIRECTLY_RESPONSIBLE: "直接责任人",
}
OUTCOMES = {
    pb.OUTCOME_UNSPECIFIED: "未说明",
    pb.OUTCOME_APPLIED: "已执行",
    pb.OUTCOME_NOT_APPLIED: "未执行",
    pb.OUTCOME_PARTIALLY_APPLIED: "部分执行",
    pb.OUTCOME_OBJECTED: "异议",
}
REVOKE_KINDS = {"repair": "信用修复", "objection": "异议成立"}
# The figures of a StatsRow in the order of the table and the CSV, with their Chinese headings.
FIGURES = (
    ("checks", "核查次数"),
    ("subjects_checked", "核查主体"),
    ("subjects_hit_penalty", "命中惩戒"),
    ("subjects_hit_reward", "命中激励"),
    ("measures_mandatory", "推送措施(应当)"),
    ("measures_discretionary", "推送措施(可以)"),
    ("feedback_applied", "反馈:已执行"),
    ("feedback_not_applied", "反馈:未执行"),
    ("feedback_partially_applied", "反馈:部分执行"),
    ("feedback_objected", "反馈:异议"),
    ("checks_missing_feedback", "待反馈核查"),
    ("penalty_checks_overdue", "逾期未反馈(惩戒)"),
    ("restrictions_applied", "已实施限制"),
    ("checks_with_measures", "推送措施的核查"),
)
_COLOURS = ("#1f5fa8", "#d9822b", "#3c8d40", "#b03a48", "#6b4fa0")


def entry_state(entry: pb.ListEntry, today: str) -> str:
    """An entry's state as the credit office names it: revoked, expired, not yet in force, in force."""
    if entry.HasField("revoked_at"):
        return "已撤销"
    if entry.end and entry.end < today:
        return "已到期"
    if entry.start > today:
        return "未生效"
    return "有效" if not entry.HasField("reinstated_at") else "有效(已恢复)"


def feedback_completeness(row: reg.StatsRow) -> str:
    """Checks with measures that have feedback, as a share of the checks with measures."""
    due = row.checks_with_measures
    return "—" if due == 0 else f"{100 * (due - row.checks_missing_feedback) / due:.1f}%"


def figures_csv(response: reg.StatsResponse) -> str:
    """The Stats answer as CSV: one line per department and month, then the total."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["department", "month", *(name for name, _ in FIGURES)])
    for row in response.rows:
        writer.writerow([row.department, row.month, *(getattr(row, name) for name, _ in FIGURES)])
    writer.writerow(["total", "", *(getattr(response.total, name) for name, _ in FIGURES)])
    return out.getvalue()


def bar_chart(
    title: str,
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[float]]],
    reference: tuple[str, float] | None = None,
) -> Markup:
    """A grouped bar chart as inline SVG (no script, nothing fetched), with an optional reference line."""
    width, height, left, bottom, top = 760, 260, 60, 40, 30
    plot_w, plot_h = width - left - 10, height - top - bottom
    peak = max([*(v for _, values in series for v in values), reference[1] if reference else 0, 1])
    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<text x="{left}" y="18" class="chart-title">{escape(title)}</text>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#888"/>',
        f'<text x="{left - 6}" y="{top + 4}" text-anchor="end" class="tick">{peak:,.0f}</text>',
        f'<text x="{left - 6}" y="{top + plot_h}" text-anchor="end" class="tick">0</text>',
    ]
    slot = plot_w / max(len(categories), 1)
    bar = slot * 0.8 / max(len(series), 1)
    for c, category in enumerate(categories):
        x0 = left + c * slot + slot * 0.1
        for s, (name, values) in enumerate(series):
            value = values[c]
            h = plot_h * value / peak
            parts.append(
                f'<rect x="{x0 + s * bar:.1f}" y="{top + plot_h - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{_COLOURS[s % len(_COLOURS)]}"><title>{escape(category)} {escape(name)}: '
                f"{value:,.0f}</title></rect>"
            )
            if value:  # the figure itself, readable even when the scale makes its bar a sliver
                parts.append(
                    f'<text x="{x0 + (s + 0.5) * bar:.1f}" y="{top + plot_h - h - 3:.1f}" '
                    f'text-anchor="middle" class="tick">{value:,.0f}</text>'
                )
        parts.append(
            f'<text x="{x0 + slot * 0.4:.1f}" y="{top + plot_h + 14}" text-anchor="middle" class="tick">'
            f"{escape(category)}</text>"
        )
    if reference is not None:
        label, value = reference
        y = top + plot_h - plot_h * value / peak
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#b03a48" '
            'stroke-dasharray="6 4"/>'
        )
        parts.append(
            f'<text x="{left + plot_w}" y="{y - 4:.1f}" text-anchor="end" class="tick">{escape(label)}</text>'
        )
    for s, (name, _) in enumerate(series):
        x = left + s * 160
        parts.append(
            f'<rect x="{x}" y="{height - 14}" width="10" height="10" fill="{_COLOURS[s % len(_COLOURS)]}"/>'
            f'<text x="{x + 14}" y="{height - 5}" class="tick">{escape(name)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # every text in it was escaped above
