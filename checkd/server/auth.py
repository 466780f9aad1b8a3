"""Who is calling and what they may do: identity from mTLS or a bearer token, rights from the policy."""

from __future__ import annotations

import hmac
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, NoReturn, Protocol

import grpc
import structlog
from google.protobuf.message import Message
from google.rpc import code_pb2

from checkd.api.v1 import check_pb2 as pb
from checkd.errors import (
    CertificateUnknown,
    CheckdError,
    CredentialsConflict,
    CredentialsMissing,
    DepartmentMismatch,
    NotInRights,
    OtherDepartmentsCheck,
    PersonProbeLimited,
    RateLimited,
    RegistryForbidden,
    TokenInvalid,
)
from checkd.limits import ID_CHARS, text_problem
from checkd.model import CheckCase, Decision, SubjectType
from checkd.server import convert
from checkd.server.policy import DepartmentPolicy, PolicyFile, ProbeLimit, Rate
from checkd.server.status import abort, status_of
from checkd.subjects.ids import PERSON_KINDS, IdentifierError, normalise, parse_identifier
from checkd.subjects.keys import SubjectKeyer

log = structlog.get_logger(__name__)

CHECK_SERVICE = "/checkd.v1.CheckService/"
REGISTRY_SERVICE = "/checkd.v1.RegistryService/"
HEALTH_SERVICE = "/grpc.health.v1.Health/"
_CERT_NAME_KEYS = ("x509_common_name", "x509_subject_alternative_name")
_PERSON_LIKE = re.compile(r"\d{15}|\d{17}[\dX]")  # reads as a resident ID, whatever its check character

_CALLER: ContextVar[Caller | None] = ContextVar("checkd_caller", default=None)


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated department system, how it proved it, and where it called from."""

    department: str
    via: str  # e.g. "certificate dept-a.example" or "token 2026-q1"
    peer: str

    def audit_name(self) -> str:
        """The caller as administrative ledger records name it."""
        return f"{self.department} ({self.via}; {self.peer})"


def current_caller() -> Caller | None:
    """The authenticated caller of the RPC running in this thread (None without a policy)."""
    return _CALLER.get()


class RateLimiter:
    """One token bucket per department, so one busy system cannot starve the others."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[Rate, float, float]] = {}  # rate, tokens, stamp

    def take(self, department: str, rate: Rate | None, cost: float = 1.0) -> bool:
        """Spend `cost` tokens; False when too few.

        A call larger than the burst is let through on a full bucket and its whole cost is owed
        (the bucket goes negative), so a huge batch cannot buy many subjects for one burst.
        """
        if rate is None:
            return True
        needed = min(cost, rate.burst)
        with self._lock:
            now = self._clock()
            known = self._buckets.get(department)
            if known is None or known[0] != rate:
                tokens = rate.burst  # new or re-configured: start full
            else:
                tokens = min(rate.burst, known[1] + (now - known[2]) * rate.per_second)
            allowed = tokens >= needed
            self._buckets[department] = (rate, tokens - cost if allowed else tokens, now)
            return allowed

    def retry_after(self, department: str, rate: Rate, cost: float = 1.0) -> float:
        """Seconds until a call of `cost` would pass (0 if it would now): the refusal's RetryInfo."""
        needed = min(cost, rate.burst)
        with self._lock:
            known = self._buckets.get(department)
            if known is None or known[0] != rate:
                return 0.0
            tokens = min(rate.burst, known[1] + (self._clock() - known[2]) * rate.per_second)
        return max(0.0, (needed - tokens) / rate.per_second) if rate.per_second > 0 else 60.0


class PersonProbes:
    """Per department, the distinct person numbers of a sliding window that were invalid or unlisted.

    Checking every candidate birth date behind a masked number (`330402********1234`) finds the
    full number; counting the distinct person numbers a department asks about that turn out
    invalid or on no list, and refusing new ones beyond its limit, bounds that search. Numbers
    are held only as keyed hashes, in memory. A number is counted when a check names it and
    uncounted when the decision finds it listed (a listed person is ordinary work, not a probe).
    """

    def __init__(
        self,
        keyer: SubjectKeyer,
        clock: Callable[[], float] = time.monotonic,
        on_refused: Callable[[str], None] | None = None,
    ) -> None:
        self._keyer = keyer
        self._clock = clock
        self._on_refused = on_refused
        self._lock = threading.Lock()
        self._seen: dict[str, OrderedDict[str, float]] = {}  # department -> person key -> last seen
        self._spans: dict[str, float] = {}  # department -> its window in seconds, as last admitted

    def keys(self, requests: Iterable[pb.CheckRequest]) -> list[str]:
        """The keyed hashes of the person numbers (valid or not) the requests name."""
        found = []
        for request in requests:
            for subject in request.subjects:
                key = self._key(subject)
                if key is not None:
                    found.append(key)
        return found

    def admit(self, department: str, limit: ProbeLimit | None, keys: list[str], prefix: str = "") -> None:
        """Count `keys` for the department; refuse when new ones would pass its limit."""
        if limit is None or not keys:
            return
        with self._lock:
            now = self._clock()
            self._spans[department] = limit.window_seconds
            window = self._window(department, now - limit.window_seconds)
            new = {k for k in keys if k not in window}
            if new and len(window) + len(new) > limit.limit:
                held = len(window)
            else:
                for key in keys:
                    window[key] = now
                    window.move_to_end(key)
                return
        if self._on_refused is not None:
            self._on_refused(department)
        log.warning(
            "person_probe_refused",
            department=department,
            distinct_in_window=held,
            new_numbers=len(new),
            limit=limit.limit,
            window_seconds=limit.window_seconds,
        )
        raise PersonProbeLimited(
            f"{prefix}{department} has checked {held} distinct person numbers that were invalid or on "
            f"no list in the last {limit.window_seconds:g} s (limit {limit.limit}); checks naming "
            f"{len(new)} new person number(s) are refused until the window moves on"
        )

    def decided(self, case: CheckCase, decision: Decision) -> None:
        """Uncount the persons the decision found listed (called after `decide`)."""
        listed = [
            s.query.key for s in decision.subjects if s.hits and s.query.subject_type is SubjectType.PERSON
        ]
        if not listed:
            return
        with self._lock:
            window = self._seen.get(case.department)
            if window is not None:
                for key in listed:
                    window.pop(key, None)

    def distinct(self) -> dict[str, int]:
        """Distinct counted person numbers per department (for the gauge); expired ones dropped."""
        with self._lock:
            now = self._clock()
            return {dept: len(self._window(dept, now - seconds)) for dept, seconds in self._spans.items()}

    def _window(self, department: str, horizon: float) -> OrderedDict[str, float]:
        window = self._seen.setdefault(department, OrderedDict())
        while window:  # oldest first: drop what fell out of the window
            key, seen = next(iter(window.items()))
            if seen >= horizon:
                break
            del window[key]
        return window

    def _key(self, subject: pb.Subject) -> str | None:
        """A person number's keyed hash; an invalid one's too when it reads as a person number."""
        try:
            declared = convert.parse_id_type(subject.id_type, "id_type")
        except CheckdError:
            declared = None
        try:
            identifier = parse_identifier(subject.id, declared)
        except IdentifierError:
            text = normalise(subject.id)[:64]
            looks_personal = (
                declared in PERSON_KINDS
                or subject.subject_type == pb.SUBJECT_TYPE_PERSON
                or _PERSON_LIKE.fullmatch(text) is not None
            )
            return self._keyer.person_key("invalid:" + text) if looks_personal else None
        return self._keyer.key(identifier) if identifier.is_person else None


class CheckOwners(Protocol):
    """The one store read authorisation needs: which department made a check."""

    def check_department(self, check_id: str) -> str | None:
        """The department that made a check (None when there is no such check)."""


def owner_lookup(records: CheckOwners) -> Callable[[str], str | None]:
    """The department that made a stored check (None when there is no such check)."""

    def owner(check_id: str) -> str | None:
        # An id the store cannot look up is left to the service, which names the bad field.
        usable = check_id.strip() and text_problem(check_id.strip(), ID_CHARS) is None
        return records.check_department(check_id.strip()) if usable else None

    return owner


class AuthInterceptor(grpc.ServerInterceptor):  # type: ignore[misc]
    """Authenticates every call, authorizes it against the policy, and applies rate limits.

    UNAUTHENTICATED: no usable credentials. PERMISSION_DENIED: a known department asking beyond
    its rights. RESOURCE_EXHAUSTED: over its rate. Health stays open so probes need no secret.
    """

    def __init__(
        self,
        policy: PolicyFile,
        check_owner: Callable[[str], str | None],
        limiter: RateLimiter | None = None,
        clock: Callable[[], float] = time.monotonic,
        probes: PersonProbes | None = None,
        gateway: GatewayTrust | None = None,
    ) -> None:
        self._policy = policy
        self._gateway = gateway  # trusts the HTTP gateway's forwarded certificate names
        self._check_owner = check_owner
        self._limiter = limiter or RateLimiter(clock)
        self._clock = clock
        self._probes = probes

    def intercept_service(self, continuation: Callable[[Any], Any], details: Any) -> Any:
        """Wrap the handler of every method except health in the checks of this module."""
        handler = continuation(details)
        method: str = details.method
        if handler is None or method.startswith(HEALTH_SERVICE):
            return handler
        if handler.request_streaming:
            inner = handler.stream_stream or handler.stream_unary
            wrapped = self._streaming(method, inner)
            make = (
                grpc.stream_stream_rpc_method_handler
                if handler.stream_stream
                else grpc.stream_unary_rpc_method_handler
            )
        else:
            inner = handler.unary_unary or handler.unary_stream
            wrapped = self._unary(method, inner)
            make = (
                grpc.unary_unary_rpc_method_handler
                if handler.unary_unary
                else grpc.unary_stream_rpc_method_handler
            )
        return make(
            wrapped,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )

    # ------------------------------------------------------------------ wrappers

    def _unary(self, method: str, inner: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
        def behaviour(request: Any, context: grpc.ServicerContext) -> Any:
            department = ""
            try:
                caller, rights = self._identify(context)
                department = caller.department
                self._charge(rights, self._authorize(method, rights, request))
            except CheckdError as refused:
                _refuse(context, method, refused, department)
            token = _CALLER.set(caller)
            try:
                return inner(request, context)
            finally:
                _CALLER.reset(token)

        return behaviour

    def _streaming(self, method: str, inner: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
        def behaviour(requests: Iterator[Any], context: grpc.ServicerContext) -> Any:
            try:
                caller, rights = self._identify(context)
            except CheckdError as refused:
                _refuse(context, method, refused, "")
            stopped: list[CheckdError] = []

            def checked() -> Iterator[Any]:
                # The servicer may read requests on a thread of its own, where aborting the call
                # is not possible: a refused item ends the request stream here, and the call is
                # ended with the refusal on the handler's thread once earlier items are answered.
                for position, item in enumerate(requests):
                    try:
                        self._charge(rights, self._authorize(method, rights, item, f"stream[{position}]."))
                    except CheckdError as refused:
                        stopped.append(refused)
                        return
                    yield item

            def answers(result: Any) -> Iterator[Any]:
                yield from result
                if stopped:
                    _refuse(context, method, stopped[0], caller.department)

            token = _CALLER.set(caller)
            try:
                result = inner(checked(), context)
            finally:
                _CALLER.reset(token)
            if stopped and not isinstance(result, Iterator):  # stream in, one answer out
                _refuse(context, method, stopped[0], caller.department)
            return answers(result) if isinstance(result, Iterator) else result

        return behaviour

    # ------------------------------------------------------------------ the checks

    def _identify(self, context: grpc.ServicerContext) -> tuple[Caller, DepartmentPolicy]:
        policy, broken = self._policy.fresh(self._clock())
        if broken is not None:
            log.error("policy_reload_failed", problems=[str(p) for p in broken.problems], kept=policy.source)
        forwarded = self._gateway.certificate_names(context) if self._gateway is not None else None
        names = _certificate_names(context) if forwarded is None else forwarded
        from_cert = policy.department_of_certificate(names) if names else None
        if names and from_cert is None:
            raise CertificateUnknown("client certificate is not known to the access policy")
        bearer = _bearer(context)
        from_token = policy.department_of_token(bearer) if bearer is not None else None
        if bearer is not None and from_token is None:
            raise TokenInvalid("bearer token is not valid")
        if from_cert is not None and from_token is not None and from_cert != from_token[0]:
            raise CredentialsConflict("client certificate and bearer token name different departments")
        if from_token is not None:
            department, via = from_token[0], f"token {from_token[1]}"
        elif from_cert is not None:
            department, via = from_cert, f"certificate {names[0]}"
        else:
            raise CredentialsMissing(
                "credentials required: a client certificate or `authorization: Bearer <token>` metadata"
            )
        peer = self._gateway.peer(context) if self._gateway is not None else str(context.peer())
        return Caller(department, via, peer), policy.departments[department]

    def _authorize(self, method: str, rights: DepartmentPolicy, request: Any, prefix: str = "") -> float:
        """Raise when `rights` do not cover this request; return its cost in rate tokens."""
        if method.startswith(REGISTRY_SERVICE):
            if not rights.registry:
                raise RegistryForbidden(
                    f"{rights.department} may not use RegistryService (credit office only)"
                )
            return 1.0
        if not method.startswith(CHECK_SERVICE) or not _decoded(request):
            # Reflection and the like: any authenticated caller. A request that did not decode
            # names nothing to authorize; the service answers it INVALID_ARGUMENT.
            return 1.0
        name = method[len(CHECK_SERVICE) :]
        # Checks cost one token per subject: a call naming many subjects is many checks.
        if name in ("Check", "StreamCheck"):
            _may_check(rights, request, prefix)
            self._count_persons(rights, [request], prefix)
            return float(max(1, len(request.subjects)))
        if name == "BatchCheck":
            for i, item in enumerate(request.requests):
                _may_check(rights, item, f"requests[{i}].")
            self._count_persons(rights, request.requests, prefix)
            return float(max(1, sum(len(item.subjects) for item in request.requests)))
        if name == "SubmitFeedback":
            _same_department(rights, request.department, "department")
        if name in ("SubmitFeedback", "GetCheck"):
            owner = self._check_owner(request.check_id)
            if owner is not None and owner != rights.department:
                raise OtherDepartmentsCheck(
                    f"check {request.check_id.strip()!r} was made by another department"
                )
        return 1.0

    def _count_persons(
        self, rights: DepartmentPolicy, requests: Iterable[pb.CheckRequest], prefix: str
    ) -> None:
        if self._probes is not None and rights.person_probes is not None:
            self._probes.admit(rights.department, rights.person_probes, self._probes.keys(requests), prefix)

    def _charge(self, rights: DepartmentPolicy, cost: float) -> None:
        rate = rights.rate
        if rate is not None and not self._limiter.take(rights.department, rate, cost):
            raise RateLimited(
                f"rate limit of {rights.department} exceeded; retry with backoff",
                retry_after=self._limiter.retry_after(rights.department, rate, cost),
            )


def _decoded(request: Any) -> bool:
    return isinstance(request, Message)


def _may_check(rights: DepartmentPolicy, request: pb.CheckRequest, prefix: str) -> None:
    _same_department(rights, request.department, prefix + "department")
    matter, scene = request.matter.strip(), request.scene.strip()
    if (matter or scene) and not rights.may_check(matter, scene):
        named = " / ".join(
            part
            for part in (f"matter {matter!r}" if matter else "", f"scene {scene!r}" if scene else "")
            if part
        )
        raise NotInRights(f"{prefix}{named}: not in the rights of {rights.department}")


def _same_department(rights: DepartmentPolicy, claimed: str, field: str) -> None:
    # An empty department is left to request validation, which names the missing field.
    if claimed.strip() and claimed.strip() != rights.department:
        raise DepartmentMismatch(
            f"{field}: {claimed.strip()[:64]!r} is not the authenticated department {rights.department!r}"
        )


def _certificate_names(context: grpc.ServicerContext) -> list[str]:
    """The CN, then the subject alternative names, of a verified client certificate."""
    auth = context.auth_context() or {}
    names: list[str] = []
    for key in _CERT_NAME_KEYS:
        for value in auth.get(key, ()):
            text = value.decode() if isinstance(value, bytes) else str(value)
            if text and text not in names:
                names.append(text)
    return names


def _bearer(context: grpc.ServicerContext) -> str | None:
    for key, value in context.invocation_metadata() or ():
        if key == "authorization":
            text = value.decode() if isinstance(value, bytes) else value
            scheme, _, token = text.strip().partition(" ")
            # A malformed header is a bad credential, not an absent one.
            return token.strip() if scheme.lower() == "bearer" and token.strip() else ""
    return None


def _refuse(context: grpc.ServicerContext, method: str, refused: CheckdError, department: str) -> NoReturn:
    code = code_pb2.Code.Name(status_of(refused).code)
    log.warning(
        "access_refused",
        method=method,
        code=code,
        reason=refused.message,
        department=department or None,
        peer=context.peer(),
    )
    abort(context, refused)


# ------------------------------------------------------------------ the HTTP gateway's forwarded identity
#
# The identity the HTTP gateway forwards over its private local channel, trusted only with its secret.
#
# The gateway terminates TLS itself, so the gRPC server never sees the HTTP caller's client
# certificate. It forwards the verified certificate's names and the caller's address as metadata,
# with a secret the daemon generates at start and hands to the gateway alone, over a unix socket in
# a private directory. A call carrying these keys without the secret, or not on that socket, is
# treated as carrying none of them: nobody else can claim a certificate identity this way.

SECRET_KEY = "x-checkd-gateway-secret"
CERT_NAME_KEY = "x-checkd-gateway-cert-name"  # once per name: the CN, then the subject alternative names
PEER_KEY = "x-checkd-gateway-peer"  # the HTTP caller's address, for audit


@dataclass(frozen=True, slots=True)
class GatewayTrust:
    """The secret shared by the daemon and its gateway, and the unix socket it is accepted on."""

    socket_path: str
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)

    @property
    def target(self) -> str:
        """The gRPC target the gateway dials."""
        return f"unix:{self.socket_path}"

    def metadata(self, cert_names: list[str], peer: str) -> list[tuple[str, str]]:
        """What the gateway adds to a forwarded call."""
        return [(SECRET_KEY, self.secret), (PEER_KEY, peer), *((CERT_NAME_KEY, n) for n in cert_names)]

    def vouched(self, context: grpc.ServicerContext) -> bool:
        """Whether this call came from the gateway: on its socket and with its secret."""
        if not str(context.peer()).startswith("unix:"):
            return False
        given = _metadata_values(context, SECRET_KEY)
        return len(given) == 1 and hmac.compare_digest(given[0].encode(), self.secret.encode())

    def certificate_names(self, context: grpc.ServicerContext) -> list[str] | None:
        """The forwarded certificate names of a vouched call (None: not a gateway call)."""
        return _metadata_values(context, CERT_NAME_KEY) if self.vouched(context) else None

    def peer(self, context: grpc.ServicerContext) -> str:
        """The HTTP caller's address for a vouched call, else the gRPC peer."""
        if self.vouched(context):
            forwarded = _metadata_values(context, PEER_KEY)
            if forwarded:
                return f"http {forwarded[0][:100]}"
        return str(context.peer())


def _metadata_values(context: grpc.ServicerContext, key: str) -> list[str]:
    found = []
    for name, value in context.invocation_metadata() or ():
        if name == key:
            found.append(value.decode() if isinstance(value, bytes) else str(value))
    return found
