"""The console's pages: each reads or acts through one daemon RPC, as the signed-in operator."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from checkd.api.v1 import registry_pb2 as reg
from checkd.console import views
from checkd.console.daemon import SLOW_CALL_SECONDS, Daemon, Refused
from checkd.console.sessions import COOKIE, Session, Sessions

MAX_UPLOAD_BYTES = 15 * 1024 * 1024  # under the daemon's 16 MiB message limit
CST = dt.timezone(dt.timedelta(hours=8))  # the calendar of the lists, the figures and the operators
_HEADERS = {
    # Nothing is loaded from elsewhere and nothing may frame the console.
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
Handler = Callable[[Request, Session], Awaitable[Response]]


class Console:
    """The web application over one daemon connection and one session store."""

    def __init__(self, daemon: Daemon, sessions: Sessions, *, secure_cookie: bool) -> None:
        self.daemon = daemon
        self.sessions = sessions
        self._secure_cookie = secure_cookie
        self._templates = Environment(
            loader=PackageLoader("checkd.console", "templates"), autoescape=select_autoescape(default=True)
        )
        self._templates.globals.update(views=views)
        static = resources.files("checkd.console") / "static"
        self.app = Starlette(
            routes=[
                Route("/signin", self.signin_page, methods=["GET"]),
                Route("/signin", self.signin, methods=["POST"]),
                Route("/signout", self._guard(self.signout), methods=["POST"]),
                Route("/", self._guard(self.home), methods=["GET"]),
                Route("/subject", self._guard(self.subject_page), methods=["GET"]),
                Route("/subject", self._guard(self.subject_search), methods=["POST"]),
                Route("/revoke", self._guard(self.revoke), methods=["POST"]),
                Route("/reinstate", self._guard(self.reinstate), methods=["POST"]),
                Route("/check", self._guard(self.check_page), methods=["GET"]),
                Route("/check/verify", self._guard(self.check_verify), methods=["POST"]),
                Route("/import", self._guard(self.import_page), methods=["GET"]),
                Route("/import", self._guard(self.import_files), methods=["POST"]),
                Route("/figures", self._guard(self.figures), methods=["GET"]),
                Route("/figures.csv", self._guard(self.figures_csv), methods=["GET"]),
                Route("/catalogue", self._guard(self.catalogue), methods=["GET"]),
                Route("/evidence", self._guard(self.evidence), methods=["GET"]),
                Route("/evidence", self._guard(self.evidence_verify), methods=["POST"]),
                Mount("/static", StaticFiles(directory=str(static)), name="static"),
            ]
        )

    # ------------------------------------------------------------------ plumbing

    def _guard(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        """Signed-in sessions only; every POST must carry the session's CSRF token."""

        async def guarded(request: Request) -> Response:
            session = self.sessions.find(request.cookies.get(COOKIE))
            if session is None or not session.signed_in:
                return self._redirect("/signin")
            if request.method == "POST" and not await self._csrf_ok(request, session):
                return self._forbidden()
            try:
                return await handler(request, session)
            except Refused as refused:
                if refused.code == "UNAUTHENTICATED":  # the token was withdrawn from the policy
                    self.sessions.end(session)
                    return self._redirect("/signin")
                return self._page("refused.html", session, refused=refused, status=_status_of(refused))

        return guarded

    async def _csrf_ok(self, request: Request, session: Session) -> bool:
        form = await request.form(max_part_size=MAX_UPLOAD_BYTES)
        given = form.get("csrf")
        return isinstance(given, str) and self.sessions.csrf_ok(session, given)

    def _forbidden(self) -> Response:
        return self._secured(
            PlainTextResponse("请求被拒绝:缺少或错误的 CSRF 令牌 (forged form post refused)", 403)
        )

    def _page(self, name: str, session: Session | None, status: int = 200, **values: Any) -> Response:
        flashes = list(session.flashes) if session else []
        if session:
            session.flashes.clear()
        body = self._templates.get_template(name).render(session=session, flashes=flashes, **values)
        response = self._secured(HTMLResponse(body, status))
        if session is not None:
            self._set_cookie(response, session)
        return response

    def _redirect(self, to: str) -> Response:
        return self._secured(RedirectResponse(to, 303))

    def _set_cookie(self, response: Response, session: Session) -> None:
        response.set_cookie(
            COOKIE,
            self.sessions.cookie_value(session),
            httponly=True,
            samesite="strict",
            secure=self._secure_cookie,
            path="/",
        )

    @staticmethod
    def _secured(response: Response) -> Response:
        response.headers.update(_HEADERS)
        return response

    async def _call(self, session: Session, method: str, request: Any, timeout: float = 30.0) -> Any:
        return await run_in_threadpool(self.daemon.call, session.token, method, request, timeout)

    # ------------------------------------------------------------------ sign-in

    async def signin_page(self, request: Request) -> Response:
        """The sign-in form (an anonymous session carries its CSRF token)."""
        session = self.sessions.find(request.cookies.get(COOKIE))
        if session is not None and session.signed_in:
            return self._redirect("/")
        return self._page("signin.html", session or self.sessions.new())

    async def signin(self, request: Request) -> Response:
        """Ask the daemon who the token's holder is: only credit office identities get in."""
        session = self.sessions.find(request.cookies.get(COOKIE))
        form = await request.form()
        given_csrf = form.get("csrf")
        if (
            session is None
            or not isinstance(given_csrf, str)
            or not self.sessions.csrf_ok(session, given_csrf)
        ):
            return self._forbidden()
        token = str(form.get("token") or "").strip()
        if not token:
            return self._page("signin.html", session, 400, error="请输入信用办令牌 (token required)")
        try:
            state = await run_in_threadpool(self.daemon.state, token)
        except Refused as refused:
            reason = {
                "UNAUTHENTICATED": "令牌无效 (token not valid)",
                "PERMISSION_DENIED": "该身份不属于信用办,不能使用控制台 (not a credit office identity)",
            }.get(refused.code, f"无法连接核查服务:{refused}")
            return self._page("signin.html", session, 403, error=reason)
        if not state.department:
            # Without a policy the daemon takes any caller: nobody could be told apart or refused,
            # and the ledger could not name the operator.
            return self._page(
                "signin.html",
                session,
                403,
                error="核查服务未启用访问策略(--policy),控制台无法确认操作员身份 "
                "(the daemon has no access policy)",
            )
        signed = self.sessions.renew(session)
        signed.token = token
        signed.operator = f"{state.department} ({state.via})"
        return self._with_cookie(self._redirect("/"), signed)

    def _with_cookie(self, response: Response, session: Session) -> Response:
        self._set_cookie(response, session)
        return response

    async def signout(self, request: Request, session: Session) -> Response:
        """Forget the session and its token."""
        self.sessions.end(session)
        response = self._redirect("/signin")
        response.delete_cookie(COOKIE, path="/")
        return response

    async def home(self, request: Request, session: Session) -> Response:
        """What an operator sees first: the state in force and where to go."""
        state = await run_in_threadpool(self.daemon.state, session.token)
        return self._page("home.html", session, state=state)

    # ------------------------------------------------------------------ subject

    async def subject_page(self, request: Request, session: Session) -> Response:
        """The search form, with the last subject searched in this session (never in the URL)."""
        return await self._subject(session)

    async def subject_search(self, request: Request, session: Session) -> Response:
        """Search by identifier: a POST, so a full number stays out of URLs and access logs."""
        form = await request.form()
        session.subject_query = str(form.get("id") or "").strip()
        return await self._subject(session)

    async def _subject(self, session: Session) -> Response:
        if not session.subject_query:
            return self._page("subject.html", session, subject=None)
        try:
            subject = await self._call(session, "GetSubject", reg.GetSubjectRequest(id=session.subject_query))
        except Refused as refused:
            if refused.code not in ("INVALID_ARGUMENT", "NOT_FOUND"):
                raise
            return self._page("subject.html", session, 400, subject=None, error=refused)
        today = dt.datetime.now(CST).date().isoformat()
        by_department = Counter(c.department for c in subject.recent_checks)
        return self._page(
            "subject.html", session, subject=subject, today=today, by_department=sorted(by_department.items())
        )

    async def revoke(self, request: Request, session: Session) -> Response:
        """Credit repair or upheld objection, recorded in the ledger under the operator."""
        form = await request.form()
        entry_id = str(form.get("entry_id") or "")
        kind = str(form.get("kind") or "")
        answer = await self._act(
            session,
            "RevokeEntry",
            reg.RevokeEntryRequest(
                entry_id=entry_id,
                kind=kind,
                document_no=str(form.get("document_no") or ""),
                reason=str(form.get("reason") or ""),
            ),
        )
        if answer is not None:
            label = views.REVOKE_KINDS.get(kind, kind)
            session.flashes.append(("ok", f"已撤销条目 {entry_id}({label}),数据版本 {answer.data_version}"))
        return self._redirect("/subject")

    async def reinstate(self, request: Request, session: Session) -> Response:
        """Bring a revoked entry back in force, recorded in the ledger under the operator."""
        form = await request.form()
        entry_id = str(form.get("entry_id") or "")
        answer = await self._act(
            session,
            "ReinstateEntry",
            reg.ReinstateEntryRequest(
                entry_id=entry_id,
                document_no=str(form.get("document_no") or ""),
                reason=str(form.get("reason") or ""),
            ),
        )
        if answer is not None:
            session.flashes.append(("ok", f"已恢复条目 {entry_id},数据版本 {answer.data_version}"))
        return self._redirect("/subject")

    async def _act(self, session: Session, method: str, request: Any) -> Any:
        """A registry act; its refusal (the minimum-period rule, a missing field) becomes a message."""
        try:
            return await self._call(session, method, request)
        except Refused as refused:
            if refused.code in ("UNAUTHENTICATED", "UNAVAILABLE"):
                raise
            details = "; ".join(f"{f}: {d}" for f, d in refused.violations)
            session.flashes.append(
                ("error", f"未执行:{refused.message}" + (f"({details})" if details else ""))
            )
            return None

    # ------------------------------------------------------------------ check

    async def check_page(self, request: Request, session: Session) -> Response:
        """A check by id, or by department and request_id, exactly as it was answered."""
        query = request.query_params
        wanted = reg.GetCheckRecordRequest(
            check_id=query.get("id", "").strip(),
            department=query.get("department", "").strip(),
            request_id=query.get("request_id", "").strip(),
        )
        if not (wanted.check_id or wanted.department or wanted.request_id):
            return self._page("check.html", session, record=None)
        try:
            record = await self._call(session, "GetCheckRecord", wanted)
        except Refused as refused:
            if refused.code not in ("INVALID_ARGUMENT", "NOT_FOUND"):
                raise
            return self._page("check.html", session, 404, record=None, error=refused, wanted=wanted)
        return self._page("check.html", session, record=record, wanted=wanted, verification=None)

    async def check_verify(self, request: Request, session: Session) -> Response:
        """Walk the chain and confirm this check's record is in it with its hash."""
        form = await request.form()
        check_id = str(form.get("check_id") or "")
        record = await self._call(session, "GetCheckRecord", reg.GetCheckRecordRequest(check_id=check_id))
        receipt = f"{record.ledger_seq}:{record.ledger_hash}"
        verification = await self._call(
            session, "VerifyLedger", reg.VerifyLedgerRequest(receipts=[receipt]), SLOW_CALL_SECONDS
        )
        return self._page("check.html", session, record=record, wanted=None, verification=verification)

    # ------------------------------------------------------------------ import

    async def import_page(self, request: Request, session: Session) -> Response:
        """The upload form."""
        return self._page("import.html", session, outcome=None)

    async def import_files(self, request: Request, session: Session) -> Response:
        """Upload files to the daemon's import: all or nothing, with a report per bad row."""
        form = await request.form(max_part_size=MAX_UPLOAD_BYTES)
        files = []
        for item in form.getlist("files"):
            if isinstance(item, UploadFile) and item.filename:
                files.append(reg.ImportFile(name=item.filename, content=await item.read()))
        if sum(len(f.content) for f in files) > MAX_UPLOAD_BYTES:
            session.flashes.append(("error", f"文件过大:一次最多 {MAX_UPLOAD_BYTES // 2**20} MiB"))
            return self._redirect("/import")
        try:
            outcome = await self._call(
                session, "ImportEntries", reg.ImportEntriesRequest(files=files), SLOW_CALL_SECONDS
            )
        except Refused as refused:
            if refused.code != "INVALID_ARGUMENT":
                raise
            return self._page("import.html", session, 400, outcome=None, rejected=refused)
        return self._page("import.html", session, outcome=outcome)

    # ------------------------------------------------------------------ figures

    def _stats_request(self, request: Request) -> reg.StatsRequest:
        year = dt.datetime.now(CST).year
        query = request.query_params
        return reg.StatsRequest(
            from_date=query.get("from", f"{year}-01-01"),
            to_date=query.get("to", f"{year}-12-31"),
            department=query.get("department", ""),
        )

    async def figures(self, request: Request, session: Session) -> Response:
        """The loop's figures per department and month, as tables and charts, and the overdue list."""
        wanted = self._stats_request(request)
        stats = await self._call(session, "Stats", wanted)
        overdue = await self._call(
            session, "ListOverdue", reg.ListOverdueRequest(department=wanted.department)
        )
        months = sorted({row.month for row in stats.rows})
        departments = sorted({row.department for row in stats.rows})
        per_month = {m: sum(r.checks for r in stats.rows if r.month == m) for m in months}

        def per_department(name: str) -> list[float]:
            return [sum(getattr(r, name) for r in stats.rows if r.department == d) for d in departments]

        charts = [
            views.bar_chart(
                "每月核查次数与规划进度 (checks per month vs the plan's 1.5 million a year)",
                months,
                [("核查次数", [per_month[m] for m in months])],
                ("规划月均 125,000", stats.plan_checks_per_year / 12),
            ),
            views.bar_chart(
                "各部门推送措施 (measures pushed per department)",
                departments,
                [
                    ("应当", per_department("measures_mandatory")),
                    ("可以", per_department("measures_discretionary")),
                ],
            ),
            views.bar_chart(
                "各部门反馈结果 (feedback outcomes per department)",
                departments,
                [
                    ("已执行", per_department("feedback_applied")),
                    ("未执行", per_department("feedback_not_applied")),
                    ("部分执行", per_department("feedback_partially_applied")),
                    ("异议", per_department("feedback_objected")),
                ],
            ),
        ]
        chase = Counter(item.department for item in overdue.items)
        return self._page(
            "figures.html",
            session,
            stats=stats,
            wanted=wanted,
            charts=charts,
            overdue=overdue,
            chase=chase.most_common(),
            plan_share=(100 * stats.total.checks / stats.plan_checks_per_year)
            if stats.plan_checks_per_year
            else 0,
        )

    async def figures_csv(self, request: Request, session: Session) -> Response:
        """The same figures as a CSV file."""
        wanted = self._stats_request(request)
        stats = await self._call(session, "Stats", wanted)
        name = f"checkd-figures-{wanted.from_date}-{wanted.to_date}.csv"
        return self._secured(
            Response(
                views.figures_csv(stats),
                media_type="text/csv; charset=utf-8",
                headers={"Content-Disposition": f'attachment; filename="{name}"'},
            )
        )

    # ------------------------------------------------------------------ catalogue, evidence

    async def catalogue(self, request: Request, session: Session) -> Response:
        """Measures by department, scene, matter and list, with basis, mandatory flag, dates, doubts."""
        query = request.query_params
        wanted = reg.GetCatalogueRequest(
            department=query.get("department", ""),
            scene=query.get("scene", ""),
            matter=query.get("matter", ""),
        )
        everything = await self._call(session, "GetCatalogue", reg.GetCatalogueRequest())
        try:
            view = await self._call(session, "GetCatalogue", wanted)
        except Refused as refused:
            if refused.code != "INVALID_ARGUMENT":
                raise
            return self._page(
                "catalogue.html", session, 400, everything=everything, view=None, error=refused, query=query
            )
        list_id = query.get("list", "")
        measures = [m for m in view.measures if not list_id or any(t.list == list_id for t in m.triggers)]
        return self._page(
            "catalogue.html", session, everything=everything, view=view, measures=measures, query=query
        )

    async def evidence(self, request: Request, session: Session) -> Response:
        """Data version and age, catalogue version; the verification runs on request (it walks the chain)."""
        state = await run_in_threadpool(self.daemon.state, session.token)
        return self._page("evidence.html", session, state=state, verification=None, target=self.daemon.target)

    async def evidence_verify(self, request: Request, session: Session) -> Response:
        """Run the ledger verification of `checkd ledger verify` on the daemon's store."""
        state = await run_in_threadpool(self.daemon.state, session.token)
        verification = await self._call(session, "VerifyLedger", reg.VerifyLedgerRequest(), SLOW_CALL_SECONDS)
        return self._page(
            "evidence.html", session, state=state, verification=verification, target=self.daemon.target
        )


def _status_of(refused: Refused) -> int:
    return {"PERMISSION_DENIED": 403, "NOT_FOUND": 404, "INVALID_ARGUMENT": 400, "UNAVAILABLE": 503}.get(
        refused.code, 502
    )
