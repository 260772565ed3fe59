"""A stand-in for an OPA server's REST API, for the OPA engine adapter's tests on machines where no OPA
server can run (no Docker engine, no `opa` binary). It serves the calls the adapter makes — PUT
/v1/policies/<id>, PUT /v1/data/<path>, POST /v1/data/<path> with {"input": ...}, GET /health — and
evaluates with the embedded regorus engine. It checks the adapter's protocol (what it pushes, how it asks,
how it reads answers, how it recovers when the server loses its state), not OPA's own Rego semantics:
those are covered where Docker runs the real `openpolicyagent/opa` image."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import regorus


class OpaRestShim:
    def __init__(self) -> None:
        self.policies: dict[str, str] = {}
        self.data: dict[str, Any] = {}
        self.queries = 0
        self._server: HTTPServer | None = None

    def restart(self) -> None:
        """What an OPA restart does to pushed policies and data: they are gone."""
        self.policies.clear()
        self.data.clear()

    @contextmanager
    def serving(self) -> Iterator[str]:
        shim = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_args: Any) -> None:
                pass

            def _reply(self, status: int, body: Any = None) -> None:
                payload = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _body(self) -> bytes:
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def do_GET(self) -> None:
                self._reply(200, {}) if self.path.startswith("/health") else self._reply(404, {"code": "not_found"})

            def do_PUT(self) -> None:
                if self.path.startswith("/v1/policies/"):
                    policy_id, text = self.path.removeprefix("/v1/policies/"), self._body().decode()
                    try:
                        regorus.Engine().add_policy(policy_id, text)
                    except RuntimeError as exc:
                        message = str(exc).split("Stack backtrace")[0].strip()
                        return self._reply(400, {"code": "invalid_parameter", "message": message})
                    shim.policies[policy_id] = text
                    return self._reply(200, {})
                if self.path.startswith("/v1/data/"):
                    path = [p for p in self.path.removeprefix("/v1/data/").split("/") if p]
                    node = shim.data
                    for part in path[:-1]:
                        node = node.setdefault(part, {})
                    node[path[-1]] = json.loads(self._body())
                    return self._reply(204)
                return self._reply(404, {"code": "not_found"})

            def do_POST(self) -> None:
                if not self.path.startswith("/v1/data/"):
                    return self._reply(404, {"code": "not_found"})
                shim.queries += 1
                rule = "data." + ".".join(p for p in self.path.removeprefix("/v1/data/").split("?")[0].split("/") if p)
                engine = regorus.Engine()  # built, used and dropped in this server thread
                for policy_id, text in shim.policies.items():
                    engine.add_policy(policy_id, text)
                engine.add_data(shim.data)
                engine.set_input(json.loads(self._body()).get("input") or {})
                results = engine.eval_query(rule)["result"]
                if not results:
                    return self._reply(200, {})  # undefined: OPA answers without a "result" member
                return self._reply(200, {"result": results[0]["expressions"][0]["value"]})

        self._server = HTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{self._server.server_address[1]}"
        finally:
            self._server.shutdown()
            self._server.server_close()
