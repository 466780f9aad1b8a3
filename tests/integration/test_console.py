"""The credit office's console driven in a real headless chromium against a real daemon with a policy."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from checkd.api.v1 import check_pb2 as pb
from checkd.api.v1 import registry_pb2 as reg
from tests import factories
from tests.daemon import ROOT, settled_log
from tests.integration.console_support import DEPT, SCENE, credit_policy
from tests.secure_daemon import SecureDaemon, start_secure_daemon

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = ROOT / "docs" / "console"
BROWSER_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="no chromium on this machine (apt-get install chromium; .ci/run does)"
)


@dataclass
class World:
    """One daemon with a policy, one console in front of it, and the tokens and subjects of the story."""

    daemon: SecureDaemon
    console: subprocess.Popen[bytes]
    console_log: Path
    base: str
    credit_token: str
    market_token: str
    enterprise: str  # listed on a serious-dishonesty list, with a legal representative
    person: str  # that legal representative: a full number the console must never show
    fresh: str  # an enterprise listed today: credit repair is not allowed yet


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """A daemon on SQLite with two entries, and `checkd console` in front of it."""
    workdir = tmp_path_factory.mktemp("console")
    credit, market = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    policy = credit_policy(workdir / "policy.yaml", credit, market)
    daemon = start_secure_daemon(
        f"sqlite:///{workdir / 'checkd.db'}",
        workdir,
        "--policy",
        str(policy),
        ca=None,
        probe=lambda d: d.connect(token=credit),
    )
    enterprise, person, fresh = factories.uscc(), factories.resident_id("19781021"), factories.uscc()
    today = time.strftime("%Y-%m-%d", time.gmtime(time.time() + 8 * 3600))
    rows = [
        factories.entry_row(
            "CON-1",
            enterprise,
            "serious_illegal_dishonest",
            legal_representative_id=person,
            legal_representative_name="沈测试",
        ),
        factories.entry_row("CON-2", fresh, "serious_illegal_dishonest", start=today),
    ]
    registry = daemon.connect(token=credit).registry
    registry.UpsertEntries(
        reg.UpsertEntriesRequest(entries=[factories.entry_input(r) for r in rows]), timeout=30
    )
    port = _free_port()
    console_log = workdir / "console.log"
    with console_log.open("wb") as log:
        console = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "checkd",
                "console",
                "--target",
                f"127.0.0.1:{daemon.port}",
                "--listen",
                f"127.0.0.1:{port}",
            ],
            cwd=workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(os.environ),
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{base}/signin", timeout=5) as answer:
                assert answer.status == 200
                break
        except OSError:
            if console.poll() is not None or time.monotonic() > deadline:
                console.kill()
                daemon.stop()
                raise AssertionError(f"console did not start:\n{console_log.read_text()}") from None
            time.sleep(0.2)
    yield World(daemon, console, console_log, base, credit, market, enterprise, person, fresh)
    console.terminate()
    console.wait(30)
    assert daemon.stop() == 0, daemon.log_text()


@pytest.fixture(scope="module")
def browser(world: World) -> Iterator[Any]:
    """One system chromium (a fresh context, nothing downloaded) for the module's tests.

    A browser with a fresh context rather than a persistent one: headless Chromium sometimes never
    finishes closing a persistent context's page (microsoft/playwright#18485), and a test hung there.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=BROWSER_ARGS)
        try:
            context = chromium.new_context(locale="zh-CN", viewport={"width": 1400, "height": 1000})
            yield context
            context.close()
        finally:
            chromium.close()


def _sign_in(page: Any, world: World, token: str) -> None:
    page.goto(f"{world.base}/signin")
    page.fill("#token", token)
    page.click("#signin")


def _shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def _market_check(world: World, request_id: str) -> pb.CheckResponse:
    market = world.daemon.connect(token=world.market_token)
    answer: pb.CheckResponse = market.check.Check(
        pb.CheckRequest(
            request_id=request_id, department=DEPT, scene=SCENE, subjects=[pb.Subject(id=world.enterprise)]
        ),
        timeout=10,
    )
    return answer


def test_refused_sign_ins_and_forged_posts(world: World, browser: Any) -> None:
    """A wrong token and a department's token are refused; a form post without its CSRF token does nothing."""
    page = browser.new_page()
    _sign_in(page, world, secrets.token_urlsafe(32))
    assert "令牌无效" in page.inner_text("#signin-error")
    _sign_in(page, world, world.market_token)
    assert "不属于信用办" in page.inner_text("#signin-error")
    _shot(page, "signin-refused")
    assert page.request.get(f"{world.base}/subject", max_redirects=0).status == 303  # not signed in

    _sign_in(page, world, world.credit_token)
    assert page.url == f"{world.base}/"
    for form in (
        {"entry_id": "CON-1", "kind": "objection", "document_no": "D", "reason": "R"},
        {"entry_id": "CON-1", "kind": "objection", "document_no": "D", "reason": "R", "csrf": "forged"},
    ):
        answer = page.request.post(f"{world.base}/revoke", form=form, max_redirects=0)
        assert answer.status == 403, answer.text()
    registry = world.daemon.connect(token=world.credit_token).registry
    entry = registry.GetSubject(reg.GetSubjectRequest(id=world.enterprise), timeout=10).entries[0]
    assert not entry.HasField("revoked_at")  # the forged posts did nothing
    page.click("text=退出 sign out")
    assert page.url == f"{world.base}/signin"
    page.close(run_before_unload=True)  # does not wait: headless Chromium sometimes never finishes a close


def test_an_operator_day(world: World, browser: Any) -> None:
    """Sign in, find the subject, open the check that hit it, revoke, see the next check clear, and so on."""
    first = _market_check(world, "con-req-1")
    assert first.verdict != pb.VERDICT_CLEAR
    page = browser.new_page()
    _sign_in(page, world, world.credit_token)
    assert "credit_office (token ops-1)" in page.inner_text(".operator")
    _shot(page, "home")

    # The person behind the listed enterprise, searched by full number: shown masked, never in the URL.
    page.click("text=主体查询")
    page.fill("#subject-id", world.person)
    page.click("#search")
    assert world.person not in page.content()
    assert world.person not in page.url
    assert world.person[:6] + "********" + world.person[-4:] in page.inner_text("#subject-heading")
    assert "法定代表人" in page.inner_text("#relations")
    assert "即本次查询的主体" in page.inner_text("#relations")

    page.fill("#subject-id", world.enterprise)
    page.click("#search")
    assert page.inner_text("#entry-CON-1 .state") == "有效"
    _shot(page, "subject")
    page.click(f"text={first.check_id}")
    assert page.inner_text("#check-heading").startswith(first.check_id)
    assert "法律依据" in page.content() and "CON-1" in page.content()
    page.click("#verify-record")
    assert "哈希一致" in page.inner_text("#record-verification")
    _shot(page, "check")

    # Credit repair of an entry listed today: the minimum-period rule refuses it, with its message.
    page.click("text=主体查询")
    page.fill("#subject-id", world.fresh)
    page.click("#search")
    row = page.locator("#entry-CON-2")
    row.locator("select[name=kind]").select_option("repair")
    row.locator("input[name=document_no]").fill("嘉信修〔2026〕1号")
    row.locator("input[name=reason]").fill("已整改")
    row.locator("button").click()
    assert "未执行" in page.inner_text(".flash.error")
    assert page.inner_text("#entry-CON-2 .state") == "有效"

    # An upheld objection on the enterprise's entry: recorded under the operator; the next check clears.
    page.fill("#subject-id", world.enterprise)
    page.click("#search")
    row = page.locator("#entry-CON-1")
    row.locator("select[name=kind]").select_option("objection")
    row.locator("input[name=document_no]").fill("嘉信异〔2026〕7号")
    row.locator("input[name=reason]").fill("异议成立:认定主体错误")
    row.locator("button").click()
    assert "已撤销条目 CON-1" in page.inner_text(".flash.ok")
    assert page.inner_text("#entry-CON-1 .state") == "已撤销"
    assert _market_check(world, "con-req-2").verdict == pb.VERDICT_CLEAR
    assert "嘉信异〔2026〕7号" in page.inner_text("#entry-CON-1")  # the revocation's document, shown

    # Reinstated by a recorded decision: in force again, the lifted revocation still shown.
    row = page.locator("#entry-CON-1")
    row.locator("input[name=document_no]").fill("嘉信复〔2026〕2号")
    row.locator("input[name=reason]").fill("复核后恢复")
    row.locator("button").click()
    assert "已恢复条目 CON-1" in page.inner_text(".flash.ok")
    assert page.inner_text("#entry-CON-1 .state") == "有效(已恢复)"
    assert _market_check(world, "con-req-3").verdict != pb.VERDICT_CLEAR

    # An import with one bad row: the per-row report, and nothing changes.
    newcomer = factories.uscc()
    good = factories.entry_row("CON-3", newcomer, "serious_illegal_dishonest")
    bad = factories.entry_row("CON-4", "913304020000000000", "serious_illegal_dishonest")
    feed = Path(world.console_log.parent / "feed.jsonl")
    feed.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in (good, bad)) + "\n")
    page.click("text=名单导入")
    page.set_input_files("#files", str(feed))
    page.click("#upload")
    assert "未导入任何条目" in page.inner_text("#import-rejected")
    assert "feed.jsonl:2" in page.inner_text("#row-report")
    assert "feed.jsonl:1" not in page.inner_text("#row-report")
    _shot(page, "import")
    registry = world.daemon.connect(token=world.credit_token).registry
    assert not registry.GetSubject(reg.GetSubjectRequest(id=newcomer), timeout=10).entries

    # The figures: this month's checks of market regulation, the CSV of the same, the overdue list.
    # Two of its three checks pushed measures; feedback on one of them makes the loop half complete.
    market = world.daemon.connect(token=world.market_token)
    market.check.SubmitFeedback(
        pb.FeedbackRequest(
            check_id=first.check_id,
            outcomes=[
                pb.FeedbackOutcome(
                    measure_id=first.subjects[0].measures[0].measure_id,
                    subject_id=first.subjects[0].id,
                    outcome=pb.OUTCOME_APPLIED,
                )
            ],
        ),
        timeout=10,
    )
    page.click("text=统计")
    table = page.inner_text("#figures-table")
    assert DEPT in table
    assert page.inner_text("#figures-table tr.total td:last-child") == "50.0%"
    assert page.locator("svg.chart").count() == 3
    csv_text = page.request.get(f"{world.base}/figures.csv").text()
    assert csv_text.splitlines()[0].startswith("department,month,checks")
    assert any(line.startswith(DEPT + ",") for line in csv_text.splitlines())
    _shot(page, "figures")

    page.click("text=措施清单")
    page.select_option("select[name=department]", DEPT)
    page.click("text=筛选")
    assert int(page.inner_text("#measure-count").split()[0]) > 0
    _shot(page, "catalogue")

    page.click("text=存证与状态")
    page.click("#verify-ledger")
    assert "账本完好" in page.inner_text("#ledger-verification")
    _shot(page, "evidence")

    page.click("text=退出 sign out")
    assert page.url == f"{world.base}/signin"
    page.goto(f"{world.base}/subject")
    assert page.url == f"{world.base}/signin"  # the session is gone with its token
    page.close(run_before_unload=True)  # does not wait: headless Chromium sometimes never finishes a close

    # The ledger names the operator for the revocation; no log holds a full number or a token.
    console_log = settled_log(world.console_log, world.console)
    for secret in (world.person, world.enterprise, world.credit_token):
        assert secret not in console_log
    assert world.person not in world.daemon.log_text()
    assert "registry_revoke" in world.daemon.log_text()
    assert "credit_office (token ops-1" in world.daemon.log_text()
