"""The access policy file (YAML): who each department is, what it may check, how fast it may ask."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from checkd.errors import Violation
from checkd.rules import lines

ANY = "*"
_HASH = re.compile(r"^sha256:[0-9a-f]{64}$")
_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_DEPT_KEYS = {"certificates", "tokens", "scenes", "matters", "registry", "rate", "person_probes"}
_PROBE_KEYS = {"limit", "window_seconds"}
_TOKEN_KEYS = {"id", "sha256"}
_RATE_KEYS = {"per_second", "burst"}
_TOP_KEYS = {"version", "defaults", "departments"}


class PolicyError(ValueError):
    """The policy file is invalid; `problems` name each file:line, field and reason."""

    def __init__(self, problems: Sequence[Violation]) -> None:
        self.problems = tuple(problems)
        super().__init__("invalid policy:\n" + "\n".join(str(p) for p in self.problems))


@dataclass(frozen=True, slots=True)
class Rate:
    """A token bucket: `per_second` sustained, up to `burst` at once."""

    per_second: float
    burst: float


@dataclass(frozen=True, slots=True)
class ProbeLimit:
    """At most `limit` distinct person numbers that were invalid or on no list, per `window_seconds`.

    A department holding a masked number could otherwise recover it by checking every candidate
    birth date; ordinary work checks far fewer distinct unlisted persons than that.
    """

    limit: int
    window_seconds: float


# Safe default when the policy names none: about 1,000 distinct unlisted persons a day is well
# above a city department's person checks, and far below the ~3,300 valid candidates of one
# masked number's birth dates.
DEFAULT_PERSON_PROBES = ProbeLimit(limit=1000, window_seconds=86_400.0)


@dataclass(frozen=True, slots=True)
class Token:
    """One accepted API token, by the sha256 of its text; `token_id` names it in the audit."""

    token_id: str
    digest: bytes


@dataclass(frozen=True, slots=True)
class DepartmentPolicy:
    """What one department system may do."""

    department: str
    certificates: frozenset[str] = frozenset()
    tokens: tuple[Token, ...] = ()
    scenes: frozenset[str] = frozenset()
    matters: frozenset[str] = frozenset()
    registry: bool = False
    rate: Rate | None = None
    person_probes: ProbeLimit | None = DEFAULT_PERSON_PROBES  # None: no limit

    def may_check(self, matter: str, scene: str) -> bool:
        """True when every matter/scene the request names is one this department may check."""
        if scene and ANY not in self.scenes and scene not in self.scenes:
            return False
        if matter and ANY not in self.matters and matter not in self.matters:
            return False
        return bool(matter or scene)


@dataclass(frozen=True, slots=True)
class Policy:
    """The whole policy: departments, and indexes from certificate names and token hashes to them."""

    source: str
    departments: dict[str, DepartmentPolicy]
    by_certificate: dict[str, str] = field(default_factory=dict)

    def department_of_certificate(self, names: Iterable[str]) -> str | None:
        """The department a client certificate (its CN and SAN values) maps to, if any."""
        for name in names:
            found = self.by_certificate.get(name)
            if found is not None:
                return found
        return None

    def department_of_token(self, token: str) -> tuple[str, str] | None:
        """(department, token id) of a bearer token, comparing every stored hash in constant time."""
        digest = hashlib.sha256(token.encode()).digest()
        found: tuple[str, str] | None = None
        # No early exit: the time taken does not say which hash (or how much of one) matched.
        for department in self.departments.values():
            for candidate in department.tokens:
                if hmac.compare_digest(digest, candidate.digest):
                    found = (department.department, candidate.token_id)
        return found


def hash_token(token: str) -> str:
    """The form a token is written in the policy file (`sha256:<hex>`)."""
    return "sha256:" + hashlib.sha256(token.encode()).hexdigest()


def load_policy(
    path: Path, known_departments: Collection[str] | None = None, known_scenes: Collection[str] | None = None
) -> Policy:
    """Read and validate a policy file; every problem names file:line and the field."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PolicyError([Violation("", f"cannot read: {exc.strerror or exc}", at=str(path))]) from None
    return parse_policy(text, str(path), known_departments, known_scenes)


def parse_policy(
    text: str,
    source: str,
    known_departments: Collection[str] | None = None,
    known_scenes: Collection[str] | None = None,
) -> Policy:
    """Validate policy text; `source` is the name errors carry."""
    try:
        document = lines.load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = Violation("(yaml)", f"{getattr(exc, 'problem', exc)}", at=f"{source}:{line}")
        raise PolicyError([problem]) from None
    checker = _Checker(source, document, known_departments, known_scenes)
    policy = checker.policy(document)
    if checker.problems:
        raise PolicyError(checker.problems)
    return policy


class _Checker:
    """Walks the loaded document, collecting every problem rather than stopping at the first."""

    def __init__(
        self,
        source: str,
        document: Any,
        known_departments: Collection[str] | None,
        known_scenes: Collection[str] | None,
    ) -> None:
        self.source = source
        self.document = document  # as loaded by rules.lines: it knows the line of every key and item
        self.known_departments = known_departments
        self.known_scenes = known_scenes
        self.problems: list[Violation] = []

    def bad(self, path: tuple[Any, ...], reason: str) -> None:
        line = lines.line_of(self.document, path)
        self.problems.append(Violation(lines.dotted(path), reason, at=f"{self.source}:{line}"))

    def policy(self, document: Any) -> Policy:
        if not isinstance(document, dict):
            self.bad((), "the policy must be a mapping with `departments`")
            return Policy(self.source, {})
        self.unknown_keys(document, _TOP_KEYS, ())
        if document.get("version", 1) != 1:
            self.bad(("version",), "only version 1 is understood")
        default_rate = None
        default_probes: ProbeLimit | None = DEFAULT_PERSON_PROBES
        defaults = document.get("defaults") or {}
        if not isinstance(defaults, dict):
            self.bad(("defaults",), "must be a mapping")
        else:
            if "rate" in defaults:
                default_rate = self.rate(defaults["rate"], ("defaults", "rate"))
            if "person_probes" in defaults:
                default_probes = self.probes(defaults["person_probes"], ("defaults", "person_probes"))
        raw = document.get("departments")
        if not isinstance(raw, dict) or not raw:
            self.bad(("departments",), "required: a mapping of department id -> rights")
            return Policy(self.source, {})
        departments: dict[str, DepartmentPolicy] = {}
        by_certificate: dict[str, str] = {}
        seen_tokens: dict[bytes, str] = {}
        for name, item in raw.items():
            where = ("departments", name)
            dept = self.department(str(name), item, where, default_rate, default_probes)
            if dept is None:
                continue
            departments[dept.department] = dept
            for i, cert in enumerate(sorted(dept.certificates)):
                if cert in by_certificate:
                    self.bad(
                        (*where, "certificates", i),
                        f"{cert!r} is already the certificate of {by_certificate[cert]}",
                    )
                by_certificate[cert] = dept.department
            for i, token in enumerate(dept.tokens):
                if token.digest in seen_tokens:
                    self.bad(
                        (*where, "tokens", i, "sha256"),
                        f"the same token hash is already given to {seen_tokens[token.digest]}",
                    )
                seen_tokens[token.digest] = dept.department
        return Policy(self.source, departments, by_certificate)

    def department(
        self,
        name: str,
        item: Any,
        where: tuple[Any, ...],
        default_rate: Rate | None,
        default_probes: ProbeLimit | None = DEFAULT_PERSON_PROBES,
    ) -> DepartmentPolicy | None:
        if not _ID.match(name):
            self.bad(where, "a department id is lower-case letters, digits and _")
        elif self.known_departments is not None and name not in self.known_departments:
            self.bad(where, "not a department of the catalogue")
        if not isinstance(item, dict):
            self.bad(where, "must be a mapping (certificates, tokens, scenes, matters, registry, rate)")
            return None
        self.unknown_keys(item, _DEPT_KEYS, where)
        certificates = self.strings(item.get("certificates"), (*where, "certificates"))
        scenes = self.strings(item.get("scenes"), (*where, "scenes"))
        if self.known_scenes is not None:
            for i, scene in enumerate(scenes):
                if scene != ANY and scene not in self.known_scenes:
                    self.bad((*where, "scenes", i), f"{scene!r} is not a scene of the catalogue")
        matters = self.strings(item.get("matters"), (*where, "matters"))
        registry = item.get("registry", False)
        if not isinstance(registry, bool):
            self.bad((*where, "registry"), "true or false")
            registry = False
        tokens = self.tokens(item.get("tokens"), (*where, "tokens"))
        if not certificates and not tokens:
            self.bad(where, "needs at least one of certificates, tokens (else it can never be identified)")
        rate = self.rate(item["rate"], (*where, "rate")) if "rate" in item else default_rate
        probes = (
            self.probes(item["person_probes"], (*where, "person_probes"))
            if "person_probes" in item
            else default_probes
        )
        return DepartmentPolicy(
            name,
            frozenset(certificates),
            tokens,
            frozenset(scenes),
            frozenset(matters),
            registry,
            rate,
            probes,
        )

    def tokens(self, value: Any, where: tuple[Any, ...]) -> tuple[Token, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            self.bad(where, "a list of {id, sha256}")
            return ()
        found: list[Token] = []
        for i, item in enumerate(value):
            if not isinstance(item, dict):
                self.bad((*where, i), "a mapping {id, sha256}")
                continue
            self.unknown_keys(item, _TOKEN_KEYS, (*where, i))
            token_id, digest = item.get("id"), item.get("sha256")
            if not isinstance(token_id, str) or not token_id.strip():
                self.bad((*where, i, "id"), "required: a name for this token (shown in the audit)")
                token_id = ""
            if not isinstance(digest, str) or not _HASH.match(digest):
                self.bad(
                    (*where, i, "sha256"),
                    "required: `sha256:` and 64 lower-case hex digits "
                    "(never the token itself; see `checkd token new`)",
                )
                continue
            found.append(Token(token_id, bytes.fromhex(digest.split(":", 1)[1])))
        return tuple(found)

    def rate(self, value: Any, where: tuple[Any, ...]) -> Rate | None:
        if value is None:
            return None  # explicitly unlimited
        if not isinstance(value, dict):
            self.bad(where, "a mapping {per_second, burst}, or null for no limit")
            return None
        self.unknown_keys(value, _RATE_KEYS, where)
        numbers: list[float] = []
        for key in ("per_second", "burst"):
            number = value.get(key, value.get("per_second"))
            if isinstance(number, bool) or not isinstance(number, int | float) or number <= 0:
                self.bad((*where, key), "a positive number")
            else:
                numbers.append(float(number))
        return Rate(numbers[0], numbers[1]) if len(numbers) == 2 else None

    def probes(self, value: Any, where: tuple[Any, ...]) -> ProbeLimit | None:
        if value is None:
            return None  # explicitly unlimited
        if not isinstance(value, dict):
            self.bad(where, "a mapping {limit, window_seconds}, or null for no limit")
            return DEFAULT_PERSON_PROBES
        self.unknown_keys(value, _PROBE_KEYS, where)
        limit = value.get("limit", DEFAULT_PERSON_PROBES.limit)
        window = value.get("window_seconds", DEFAULT_PERSON_PROBES.window_seconds)
        if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
            self.bad((*where, "limit"), "a whole number of at least 1")
            limit = DEFAULT_PERSON_PROBES.limit
        if isinstance(window, bool) or not isinstance(window, int | float) or window <= 0:
            self.bad((*where, "window_seconds"), "a positive number of seconds")
            window = DEFAULT_PERSON_PROBES.window_seconds
        return ProbeLimit(limit, float(window))

    def strings(self, value: Any, where: tuple[Any, ...]) -> list[str]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.bad(where, "a list of strings")
            return []
        found = []
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                self.bad((*where, i), "a non-empty string")
            else:
                found.append(item.strip())
        return found

    def unknown_keys(self, mapping: dict[Any, Any], allowed: set[str], where: tuple[Any, ...]) -> None:
        for key in mapping:
            if key not in allowed:
                self.bad((*where, key), f"unknown key; expected one of {sorted(allowed)}")


class PolicyFile:
    """The policy in force, re-read when its file changes (checked at most every `interval` s)."""

    def __init__(
        self,
        path: Path,
        known_departments: Collection[str] | None = None,
        known_scenes: Collection[str] | None = None,
        *,
        interval: float = 1.0,
    ) -> None:
        import threading

        self.path = path
        self._known = (known_departments, known_scenes)
        self._interval = interval
        self._lock = threading.Lock()
        self._stamp = self._stat()
        self.current = load_policy(path, *self._known)
        self._next_look = 0.0

    def _stat(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def reload(self) -> Policy:
        """Read the file again; an invalid file keeps the policy in force and raises PolicyError."""
        with self._lock:
            stamp = self._stat()
            policy = load_policy(self.path, *self._known)
            self.current, self._stamp = policy, stamp
            return policy

    def fresh(self, now: float) -> tuple[Policy, PolicyError | None]:
        """The policy, reloaded first if the file changed; a broken new file is reported, not used."""
        if now < self._next_look:
            return self.current, None
        self._next_look = now + self._interval
        if self._stat() == self._stamp:
            return self.current, None
        try:
            return self.reload(), None
        except PolicyError as exc:
            with self._lock:
                self._stamp = self._stat()  # report a broken file once, not on every call
            return self.current, exc
