"""Plain HTTP calls to the daemon's HTTP/JSON listener (stdlib only, as a department system would)."""

from __future__ import annotations

import http.client
import json
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Answer:
    """One HTTP answer: status, headers (lower-cased names), body text and its JSON."""

    status: int
    headers: dict[str, str]
    text: str

    def json(self) -> Any:
        """The body as JSON."""
        return json.loads(self.text)

    def reason(self) -> str:
        """The ErrorInfo reason of a google.rpc.Status body."""
        return str(self.detail("ErrorInfo")["reason"])

    def detail(self, kind: str) -> dict[str, Any]:
        """The first detail of type google.rpc.<kind> of a google.rpc.Status body."""
        for item in self.json().get("details", []):
            if item["@type"] == f"type.googleapis.com/google.rpc.{kind}":
                return dict(item)
        raise AssertionError(f"no {kind} in {self.text}")


@dataclass(frozen=True)
class Http:
    """Where the listener is and how to reach it: plain, TLS, TLS with a client certificate."""

    port: int
    ca: Path | None = None
    cert: tuple[Path, Path] | None = None
    token: str | None = None

    def call(
        self,
        verb: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        """Send one request; `body` is sent as JSON, `raw` as is."""
        if self.ca is None:
            connection: http.client.HTTPConnection = http.client.HTTPConnection(
                "127.0.0.1", self.port, timeout=60
            )
        else:
            context = ssl.create_default_context(cafile=str(self.ca))
            context.check_hostname = False
            if self.cert is not None:
                context.load_cert_chain(*self.cert)
            connection = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=60, context=context)
        sent = dict(headers or {})
        if self.token is not None:
            sent.setdefault("Authorization", f"Bearer {self.token}")
        data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
        if data is not None:
            sent.setdefault("Content-Type", "application/json")
        try:
            connection.request(verb, path, body=data, headers=sent)
            response = connection.getresponse()
            text = response.read().decode()
            return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, text)
        finally:
            connection.close()

    def post(self, path: str, body: Any = None, **extra: Any) -> Answer:
        """POST with a JSON body."""
        return self.call("POST", path, body, **extra)

    def get(self, path: str, **extra: Any) -> Answer:
        """GET."""
        return self.call("GET", path, **extra)
