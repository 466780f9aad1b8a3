"""The access policy file: validation with file:line/field, rights, tokens, reloads, rate buckets."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from checkd.config import is_loopback
from checkd.rules.catalogue import load_catalogue
from checkd.server.auth import RateLimiter
from checkd.server.policy import (
    DEFAULT_PERSON_PROBES,
    PolicyError,
    PolicyFile,
    ProbeLimit,
    Rate,
    hash_token,
    load_policy,
    parse_policy,
)
from tests.daemon import ROOT

CATALOGUE = load_catalogue(ROOT / "rules")
GOOD = f"""version: 1
defaults:
  rate: {{per_second: 10, burst: 20}}
departments:
  credit_office:
    certificates: [credit-office.example]
    registry: true
    scenes: ["*"]
  market_regulation:
    certificates: [mr.example, mr-backup.example]
    tokens:
      - {{id: mr-1, sha256: "{hash_token("market-token")}"}}
    scenes: [administrative_licensing]
    matters: [M-1]
    rate: null
"""


def problems_of(text: str) -> list[str]:
    """The problems a policy text is rejected with."""
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, "policy.yaml", CATALOGUE.departments, CATALOGUE.scenes)
    return [str(p) for p in caught.value.problems]


def test_the_example_policy_is_valid() -> None:
    """etc/policy.example.yaml is what operators copy: it must load against the real catalogue."""
    policy = load_policy(ROOT / "etc" / "policy.example.yaml", CATALOGUE.departments, CATALOGUE.scenes)
    assert policy.departments["credit_office"].registry
    assert not policy.departments["market_regulation"].registry


def test_good_policy_maps_certificates_tokens_and_rates() -> None:
    """Certificate names and token hashes lead to their department; defaults and null rates apply."""
    policy = parse_policy(GOOD, "policy.yaml", CATALOGUE.departments, CATALOGUE.scenes)
    assert policy.department_of_certificate(["unknown", "mr-backup.example"]) == "market_regulation"
    assert policy.department_of_certificate(["unknown"]) is None
    assert policy.department_of_token("market-token") == ("market_regulation", "mr-1")
    assert policy.department_of_token("market-token ") is None
    assert policy.departments["credit_office"].rate == Rate(10.0, 20.0)
    assert policy.departments["market_regulation"].rate is None


def test_rights_cover_named_scenes_and_matters_only() -> None:
    """A request is allowed only if every matter/scene it names is in the department's rights."""
    market = parse_policy(GOOD, "p.yaml").departments["market_regulation"]
    assert market.may_check("", "administrative_licensing")
    assert market.may_check("M-1", "administrative_licensing")
    assert not market.may_check("M-2", "administrative_licensing")
    assert not market.may_check("", "public_resource_trading")
    credit = parse_policy(GOOD, "p.yaml").departments["credit_office"]
    assert credit.may_check("", "finance") and not credit.may_check("M-1", "")


def test_errors_name_the_line_and_field() -> None:
    """Each mistake is reported with its line and dotted field, all of them at once."""
    text = """version: 1
departments:
  market_regulation:
    certificates: [mr.example]
    scenes: [administrative_licensing, moon_landing]
    registry: "yes"
    rate: {per_second: -1}
  housing_construction:
    tokens:
      - {id: h-1, sha256: "the-token-itself"}
    colour: blue
  nowhere_office:
    certificates: [mr.example]
"""
    found = problems_of(text)
    assert (
        "policy.yaml:5: departments.market_regulation.scenes[1]: 'moon_landing' is not a scene "
        "of the catalogue" in found
    )
    assert any(p.startswith("policy.yaml:6: departments.market_regulation.registry:") for p in found)
    assert any(p.startswith("policy.yaml:7: departments.market_regulation.rate.per_second:") for p in found)
    assert any(
        p.startswith("policy.yaml:10: departments.housing_construction.tokens[0].sha256:") for p in found
    )
    assert any(
        p.startswith("policy.yaml:11: departments.housing_construction.colour: unknown key") for p in found
    )
    assert any(p.startswith("policy.yaml:12: departments.nowhere_office: not a department") for p in found)
    assert any("'mr.example' is already the certificate of" in p for p in found)


def test_broken_yaml_and_empty_documents_are_named() -> None:
    """Syntax errors carry their line; a policy without departments is refused."""
    assert problems_of("departments:\n  a: [b\n")[0].startswith("policy.yaml:")
    assert problems_of("version: 1\n") == [
        "policy.yaml:1: departments: required: a mapping of department id -> rights"
    ]
    assert any(
        "needs at least one of certificates, tokens" in p
        for p in problems_of("departments:\n  market_regulation: {scenes: ['*']}\n")
    )


def test_same_token_for_two_departments_is_refused() -> None:
    """One token hash may identify only one department."""
    digest = hash_token("shared")
    text = f"""departments:
  market_regulation: {{tokens: [{{id: a, sha256: "{digest}"}}]}}
  housing_construction: {{tokens: [{{id: b, sha256: "{digest}"}}]}}
"""
    assert any("already given to market_regulation" in p for p in problems_of(text))


def test_policy_file_reloads_on_change_and_keeps_the_last_good(tmp_path: Path) -> None:
    """A changed file replaces the policy; a broken change is reported and the old policy stays."""
    path = tmp_path / "policy.yaml"
    path.write_text(GOOD)
    holder = PolicyFile(path, CATALOGUE.departments, CATALOGUE.scenes, interval=0)
    assert holder.fresh(1.0) == (holder.current, None)
    path.write_text(GOOD.replace(hash_token("market-token"), hash_token("rotated-token")))
    os.utime(path, ns=(1, 1))  # a stamp surely different from before
    policy, problem = holder.fresh(2.0)
    assert problem is None and policy.department_of_token("rotated-token") is not None
    path.write_text("departments: [\n")
    os.utime(path, ns=(2, 2))
    kept, problem = holder.fresh(3.0)
    assert problem is not None and kept is policy
    assert holder.fresh(4.0) == (policy, None)  # reported once, not on every call


def test_rate_limiter_spends_and_refills_per_department() -> None:
    """Token bucket: burst at once, then refill at the rate; departments do not share a bucket."""
    now = [0.0]
    limiter = RateLimiter(clock=lambda: now[0])
    rate = Rate(per_second=2, burst=3)
    assert [limiter.take("a", rate) for _ in range(4)] == [True, True, True, False]
    assert limiter.take("b", rate)
    now[0] = 0.5  # one token back
    assert limiter.take("a", rate) and not limiter.take("a", rate)
    now[0] = 100.0
    assert limiter.take("a", rate, cost=50)  # a call larger than the burst passes on a full bucket ...
    assert not limiter.take("a", rate)
    now[0] = 110.0  # ... and owes its whole cost: 20 tokens back leave the bucket still in debt
    assert not limiter.take("a", rate)
    assert limiter.take("c", None, cost=1e9)


def test_loopback_addresses() -> None:
    """Only loopback binds may run in plain text without --insecure."""
    assert all(is_loopback(a) for a in ("127.0.0.1:1", "127.9.9.9:0", "localhost:5", "[::1]:50051"))
    assert not any(is_loopback(a) for a in ("0.0.0.0:1", "[::]:1", "10.0.0.1:1", "checkd.example:1"))


def test_person_probe_limits_default_and_override() -> None:
    """Every department gets the safe default probe limit unless the policy sets one (or null)."""
    limited = "    rate: null\n    person_probes: {limit: 50, window_seconds: 600}\n"
    text = GOOD.replace("    rate: null\n", limited)
    text = text.replace("    registry: true\n", "    registry: true\n    person_probes: null\n")
    policy = parse_policy(text, "policy.yaml", CATALOGUE.departments, CATALOGUE.scenes)
    assert policy.departments["market_regulation"].person_probes == ProbeLimit(50, 600.0)
    assert policy.departments["credit_office"].person_probes is None
    assert (
        parse_policy(GOOD, "p", CATALOGUE.departments).departments["market_regulation"].person_probes
        == DEFAULT_PERSON_PROBES
    )
    bad = GOOD.replace("    rate: null\n", "    rate: null\n    person_probes: {limit: 0, window: 5}\n")
    found = problems_of(bad)
    assert any("person_probes.limit: a whole number" in p for p in found), found
    assert any("person_probes.window: unknown key" in p for p in found), found
