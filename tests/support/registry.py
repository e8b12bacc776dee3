"""A local ``docker-registry`` (distribution 2.8) for pull tests, and pushing to it.

Each instance listens on a free 127.0.0.1 port with its storage under its own directory,
optionally behind token authentication (see token_server), and is stopped by its pid.
Images get in with ``skopeo copy`` from an OCI layout, in OCI or Docker schema 2 form.
"""

from __future__ import annotations

import shutil
import subprocess
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from tests.support.polling import eventually
from tests.support.processes import free_port, is_running, spawn_daemon, terminate
from tests.support.token_server import ISSUER, SERVICE

REGISTRY = "docker-registry"
SKOPEO = "skopeo"


# Loopback traffic must never go through a proxy from the environment.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass(frozen=True, kw_only=True)
class HttpReply:
    status: int
    headers: Mapping[str, str]
    body: bytes


def http_get(url: str, headers: Mapping[str, str] | None = None, timeout: float = 10) -> HttpReply:
    """GET without raising on 4xx/5xx; header names are lower-cased."""
    request = urllib.request.Request(url, headers=dict(headers or {}))
    try:
        with _opener.open(request, timeout=timeout) as response:
            return HttpReply(
                status=response.status,
                headers={key.lower(): value for key, value in response.headers.items()},
                body=response.read(),
            )
    except urllib.error.HTTPError as error:
        with error:
            return HttpReply(
                status=error.code,
                headers={key.lower(): value for key, value in error.headers.items()},
                body=error.read(),
            )


@dataclass(frozen=True, kw_only=True)
class TokenAuth:
    """Where the registry sends clients for tokens and which certificate signs them."""

    realm: str
    certificate: Path
    username: str
    password: str
    service: str = SERVICE
    issuer: str = ISSUER


@dataclass(frozen=True, kw_only=True)
class Registry:
    directory: Path
    port: int
    pid: int
    auth: TokenAuth | None = None

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT``, the registry part of image references."""
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    @property
    def log_path(self) -> Path:
        return self.directory / "registry.log"

    def push(
        self,
        layout: Path,
        tag: str,
        repository: str,
        *,
        docker_format: bool = False,
        all_platforms: bool = False,
    ) -> str:
        """Copy ``layout:tag`` to ``HOST/repository`` and return the pushed reference.

        ``repository`` is ``name:tag``; ``docker_format`` converts to Docker schema 2;
        ``all_platforms`` copies every manifest of an index instead of the host's.
        """
        reference = f"{self.host}/{repository}"
        command = [SKOPEO, "--insecure-policy", "copy", "--dest-tls-verify=false"]
        if docker_format:
            command += ["--format", "v2s2"]
        if all_platforms:
            command.append("--all")
        if self.auth is not None:
            command += ["--dest-creds", f"{self.auth.username}:{self.auth.password}"]
        command += [f"oci:{layout}:{tag}", f"docker://{reference}"]
        done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed: {done.stderr.strip()}")
        return reference

    def stop(self) -> None:
        terminate(self.pid)


def _config(directory: Path, port: int, auth: TokenAuth | None) -> str:
    config = (
        "version: 0.1\n"
        "log: {level: info}\n"
        "storage:\n"
        f"  filesystem: {{rootdirectory: {directory / 'data'}}}\n"
        "  delete: {enabled: true}\n"
        f"http: {{addr: 127.0.0.1:{port}}}\n"
    )
    if auth is not None:
        config += (
            "auth:\n"
            "  token:\n"
            f"    realm: {auth.realm}\n"
            f"    service: {auth.service}\n"
            f"    issuer: {auth.issuer}\n"
            f"    rootcertbundle: {auth.certificate}\n"
        )
    return config


def start_registry(
    directory: Path, *, auth: TokenAuth | None = None, timeout: float = 30.0
) -> Registry:
    """Start a registry on a free port and wait until ``/v2/`` answers (200, or 401 with auth)."""
    binary = shutil.which(REGISTRY)
    if binary is None:
        raise FileNotFoundError(f"{REGISTRY} is not on PATH (Debian package docker-registry)")
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    config_path = directory / "config.yml"
    config_path.write_text(_config(directory, port, auth))
    log_path = directory / "registry.log"
    pid = spawn_daemon(
        [binary, "serve", str(config_path)], log_path=log_path, pid_path=directory / "registry.pid"
    )
    registry = Registry(directory=directory, port=port, pid=pid, auth=auth)

    def answers() -> bool:
        if not is_running(pid):
            raise RuntimeError(f"{REGISTRY} exited; see {log_path}:\n{log_path.read_text()}")
        try:
            status = http_get(f"{registry.url}/v2/", timeout=5).status
        except OSError:
            return False
        return status == (200 if auth is None else 401)

    try:
        eventually(answers, timeout=timeout, what=f"registry answers on {registry.url}")
    except BaseException:
        registry.stop()
        raise
    return registry
