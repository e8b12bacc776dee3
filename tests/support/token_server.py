"""A Docker registry token server, so tests can exercise bearer-token authentication.

``docker-registry`` with ``auth: token:`` sends clients to a realm that hands out RS256
JWTs signed by a key whose certificate is in the registry's ``rootcertbundle``. This
server issues such tokens for one user/password, via GET + Basic auth (what skopeo and
docker do) and via the OAuth2 POST form (what containerd does first). Anonymous requests
are refused. The key pair comes from the ``openssl`` CLI, so no crypto package is needed.
"""

from __future__ import annotations

import base64
import json
import secrets
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

ISSUER = "reconciler-test-issuer"
SERVICE = "reconciler-test-registry"
TOKEN_LIFETIME = 300


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass(frozen=True, kw_only=True)
class TokenSigner:
    """An RSA key and its self-signed certificate (which the registry trusts as root)."""

    key_path: Path
    certificate_path: Path

    @classmethod
    def create(cls, directory: Path) -> TokenSigner:
        directory.mkdir(parents=True, exist_ok=True)
        signer = cls(key_path=directory / "token.key", certificate_path=directory / "token.crt")
        command = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2"]
        command += ["-subj", f"/CN={ISSUER}", "-keyout", str(signer.key_path)]
        command += ["-out", str(signer.certificate_path)]
        subprocess.run(command, check=True, capture_output=True, timeout=60)
        return signer

    def sign(self, claims: dict[str, Any]) -> str:
        certificate = ssl.PEM_cert_to_DER_cert(self.certificate_path.read_text())
        # The registry finds the verifying key through x5c and checks it against its bundle.
        header = {"alg": "RS256", "typ": "JWT", "x5c": [base64.b64encode(certificate).decode()]}
        signing_input = (
            f"{_b64url(json.dumps(header).encode())}.{_b64url(json.dumps(claims).encode())}"
        )
        signature = subprocess.run(
            ["openssl", "dgst", "-sha256", "-sign", str(self.key_path)],
            input=signing_input.encode(),
            check=True,
            capture_output=True,
            timeout=60,
        ).stdout
        return f"{signing_input}.{_b64url(signature)}"


def granted_access(scopes: list[str]) -> list[dict[str, Any]]:
    """Grant every requested action: ``repository:NAME:pull,push`` -> access entries."""
    access = []
    for scope in scopes:
        kind, _, rest = scope.partition(":")
        name, _, actions = rest.rpartition(":")
        access.append({"type": kind, "name": name, "actions": actions.split(",")})
    return access


class TokenServer:
    """Serves ``/token`` on 127.0.0.1 from a background thread until stop()."""

    def __init__(self, *, signer: TokenSigner, username: str, password: str, port: int) -> None:
        self.signer = signer
        self.username = username
        self.password = password
        # Every request as "METHOD path status", for tests that count token fetches.
        self.requests: list[str] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler_class())
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="token-server", daemon=True
        )

    @property
    def realm(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/token"

    def start(self) -> TokenServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def issue(self, fields: dict[str, list[str]], basic: str | None) -> tuple[int, dict[str, Any]]:
        """Answer one token request: (HTTP status, JSON body)."""
        username = fields.get("username", [""])[0]
        password = fields.get("password", [""])[0]
        if basic is not None:
            username, _, password = base64.b64decode(basic).decode().partition(":")
        if (username, password) != (self.username, self.password):
            return 401, {"errors": [{"code": "UNAUTHORIZED", "message": "bad credentials"}]}
        now = int(time.time())
        token = self.signer.sign(
            {
                "iss": ISSUER,
                "sub": username,
                "aud": fields.get("service", [SERVICE])[0],
                "exp": now + TOKEN_LIFETIME,
                "nbf": now - 10,
                "iat": now,
                "jti": secrets.token_hex(8),
                "access": granted_access(fields.get("scope", [])),
            }
        )
        issued = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))
        return 200, {
            "token": token,
            "access_token": token,
            "expires_in": TOKEN_LIFETIME,
            "issued_at": issued,
        }

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                self._answer(url.path, parse_qs(url.query))

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                form = parse_qs(self.rfile.read(length).decode())
                self._answer(urlsplit(self.path).path, form)

            def _answer(self, path: str, fields: dict[str, list[str]]) -> None:
                if path != "/token":
                    status, body = 404, {"errors": [{"code": "NOT_FOUND"}]}
                else:
                    authorization = self.headers.get("Authorization", "")
                    scheme, _, credentials = authorization.partition(" ")
                    basic = credentials if scheme.lower() == "basic" else None
                    status, body = server.issue(fields, basic)
                server.requests.append(f"{self.command} {path} {status}")
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                """Silence per-request logging; ``server.requests`` records them."""

        return Handler
