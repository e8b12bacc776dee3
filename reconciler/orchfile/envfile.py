"""ENV_FILE content: one `KEY=value` per line, `#` comments, values kept secret.

The format the Orch spec names, read the way users of Docker's `--env-file` and systemd's
`EnvironmentFile=` expect: blank lines and lines starting with `#` are skipped, an
`export ` prefix is allowed, and a value wrapped in matching single or double quotes loses
them (nothing inside is interpreted). A line without `=` is an error naming the file and
line but never the line's text, which may be a secret.

`read_env_files` reads a service's ENV_FILEs for the drivers (both need the same reading
and the same errors, and may not import each other).
"""

from __future__ import annotations

import re
from typing import Final

from reconciler.errors import Diagnostic, InvalidOrchfile, Location, ServiceConfigError
from reconciler.model.desired import DesiredService
from reconciler.model.secret import Secret

_KEY: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")


def parse_env_file(text: str, file: str) -> dict[str, Secret]:
    values: dict[str, Secret] = {}
    errors: list[Diagnostic] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        line = line.removeprefix("export ").lstrip()
        key, eq, value = line.partition("=")
        key = key.strip()
        at = Location(file=file, line=number)
        if not eq:
            errors.append(Diagnostic(location=at, message="expected KEY=value"))
        elif not _KEY.fullmatch(key):
            errors.append(Diagnostic(location=at, message="the key is not a variable name"))
        else:
            values[key] = Secret(_unquote(value.strip()))
    if errors:
        raise InvalidOrchfile(errors)
    return values


def read_env_files(service: DesiredService) -> list[dict[str, Secret]]:
    """The parsed ENV_FILEs of `service`, in order; a missing or bad one names the service."""
    parsed = []
    for path in service.env_files:
        try:
            text = path.read_text()
        except OSError as error:
            raise ServiceConfigError(
                f"service '{service.name}': ENV_FILE {path}: {error.strerror or error}"
            ) from error
        parsed.append(parse_env_file(text, str(path)))
    return parsed


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value
