"""The access policy of the console's tests: a credit office and one department, each with a token."""

from __future__ import annotations

from pathlib import Path

from checkd.server.policy import hash_token

DEPT, SCENE = "market_regulation", "administrative_licensing"


def credit_policy(path: Path, credit: str, market: str) -> Path:
    """A policy where `credit` is the credit office's token (ops-1) and `market` a department's (mr-1)."""
    path.write_text(f"""version: 1
departments:
  credit_office:
    tokens:
      - {{id: ops-1, sha256: "{hash_token(credit)}"}}
    registry: true
    scenes: ["*"]
    matters: ["*"]
  market_regulation:
    tokens:
      - {{id: mr-1, sha256: "{hash_token(market)}"}}
    scenes: [{SCENE}]
    matters: []
""")
    return path
