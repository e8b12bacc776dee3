"""Registry credentials and challenges: parsing ``WWW-Authenticate``, reading docker's config.

Why this exists: a registry answers 401 with a challenge (``Bearer realm=..,service=..,
scope=..`` or ``Basic realm=..``) and the puller must turn it, plus whatever login the
user has, into an ``Authorization`` header (docs/containerd.md, "Images"). The login comes from an
explicit argument or from docker's ``config.json`` (``$DOCKER_CONFIG/config.json``, else
``~/.docker/config.json``; ``auths[host].auth`` is base64 ``user:password``). Passwords
live in ``Secret`` so no message or repr shows them. Everything here is pure except the
one function that reads the config file.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from reconciler.errors import ImageError
from reconciler.model.secret import Secret

from .reference import DOCKER_HUB, DOCKER_HUB_API_HOST

_DOCKER_HUB_CONFIG_KEYS = ("https://index.docker.io/v1/", "index.docker.io", DOCKER_HUB)


@dataclass(frozen=True, kw_only=True)
class Credentials:
    """A registry login; ``password`` may be an identity token when ``username`` is empty."""

    username: str
    password: Secret


@dataclass(frozen=True, kw_only=True)
class Challenge:
    """One ``WWW-Authenticate`` challenge: scheme lower-cased, parameter names too."""

    scheme: str
    parameters: Mapping[str, str] = field(default_factory=dict)

    @property
    def realm(self) -> str:
        return self.parameters.get("realm", "")


def _skip_spaces(text: str, position: int) -> int:
    while position < len(text) and text[position] in " \t":
        position += 1
    return position


def _token(text: str, position: int) -> tuple[str, int]:
    start = position
    while position < len(text) and text[position] not in ' \t,="':
        position += 1
    return text[start:position], position


def _quoted(text: str, position: int) -> tuple[str, int]:
    """A quoted-string starting at the opening quote; backslash escapes one character."""
    value: list[str] = []
    position += 1
    while position < len(text):
        char = text[position]
        if char == "\\" and position + 1 < len(text):
            value.append(text[position + 1])
            position += 2
            continue
        if char == '"':
            return "".join(value), position + 1
        value.append(char)
        position += 1
    raise ValueError("unterminated quoted string")


def parse_challenges(header: str) -> tuple[Challenge, ...]:
    """All challenges in a ``WWW-Authenticate`` value (RFC 7235 auth-param syntax).

    Malformed input yields what could be read before the fault, never an exception:
    the caller treats "no usable challenge" as an authentication failure.
    """
    challenges: list[Challenge] = []
    scheme = ""
    parameters: dict[str, str] = {}
    position = 0
    try:
        while position < len(header):
            position = _skip_spaces(header, position)
            if position < len(header) and header[position] == ",":
                position += 1
                continue
            word, position = _token(header, position)
            if not word:
                break
            after = _skip_spaces(header, position)
            if after < len(header) and header[after] == "=" and scheme:
                after = _skip_spaces(header, after + 1)
                if after < len(header) and header[after] == '"':
                    value, position = _quoted(header, after)
                else:
                    value, position = _token(header, after)
                parameters[word.lower()] = value
                continue
            if scheme:
                challenges.append(Challenge(scheme=scheme, parameters=parameters))
            scheme, parameters = word.lower(), {}
    except ValueError:
        pass
    if scheme:
        challenges.append(Challenge(scheme=scheme, parameters=parameters))
    return tuple(challenges)


def _config_key_host(key: str) -> str:
    """``https://host:5000/v1/`` → ``host:5000``: config keys come in several spellings."""
    return key.removeprefix("https://").removeprefix("http://").split("/", 1)[0]


def _decode(entry: Mapping[str, object], path: Path, key: str) -> Credentials | None:
    encoded = entry.get("auth")
    if isinstance(encoded, str) and encoded:
        try:
            username, colon, password = base64.b64decode(encoded).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError) as error:
            raise ImageError(f"{path}: auths[{key!r}].auth is not base64 user:password") from error
        if not colon:
            raise ImageError(f"{path}: auths[{key!r}].auth is not base64 user:password")
        return Credentials(username=username, password=Secret(password))
    user, secret = entry.get("username"), entry.get("password")
    if isinstance(user, str) and isinstance(secret, str) and user:
        return Credentials(username=user, password=Secret(secret))
    token = entry.get("identitytoken")
    if isinstance(token, str) and token:
        return Credentials(username="", password=Secret(token))
    return None


def credentials_from_config(
    document: Mapping[str, object], host: str, path: Path
) -> Credentials | None:
    """The login for registry ``host`` in a parsed docker ``config.json``, if any."""
    auths = document.get("auths")
    if not isinstance(auths, dict):
        return None
    wanted = {host}
    if host in (DOCKER_HUB, DOCKER_HUB_API_HOST):
        wanted |= {DOCKER_HUB, DOCKER_HUB_API_HOST, "index.docker.io"}
    for key, entry in auths.items():
        matches = key in _DOCKER_HUB_CONFIG_KEYS and DOCKER_HUB in wanted
        if (matches or _config_key_host(str(key)) in wanted) and isinstance(entry, dict):
            found = _decode(entry, path, str(key))
            if found is not None:
                return found
    return None


def docker_config_path(environment: Mapping[str, str] | None = None) -> Path:
    environment = os.environ if environment is None else environment
    directory = environment.get("DOCKER_CONFIG")
    if directory:
        return Path(directory) / "config.json"
    return Path(environment.get("HOME") or Path.home()) / ".docker" / "config.json"


def load_docker_credentials(host: str, path: Path) -> Credentials | None:
    """The login for ``host`` in the docker config at ``path``; a missing file means none."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise ImageError(f"cannot read registry credentials from {path}: {error}") from error
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise ImageError(f"{path}: not valid JSON: {error}") from error
    if not isinstance(document, dict):
        raise ImageError(f"{path}: expected a JSON object")
    return credentials_from_config(document, host, path)
