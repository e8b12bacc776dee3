"""Who a host service runs as and the environment it starts with.

The base environment is deliberately small and the same on every host, so a service
behaves the same under `reconciler run` in a terminal, in CI or under systemd:

    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
    HOME, USER, LOGNAME, SHELL   of the user the service runs as (from the passwd entry;
                                 HOME=/ and SHELL=/bin/sh when it has none)
    LANG, TZ                     copied from the reconciler's own environment when set there

Then each ENV_FILE in order, then ENV: a later source wins over an earlier one. Nothing
else of the reconciler's environment leaks into a service. USER (a name or a numeric
uid) needs the reconciler to run as root; otherwise it is a `ServiceConfigError`.
"""

from __future__ import annotations

import os
import pwd
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from reconciler.errors import ServiceConfigError
from reconciler.model.secret import Secret

BASE_PATH: Final = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
PASSED_THROUGH: Final = ("LANG", "TZ")
DEFAULT_SHELL: Final = "/bin/sh"


@dataclass(frozen=True, kw_only=True)
class ProcessUser:
    """A resolved user: the ids to switch to, and what the base environment says of it."""

    uid: int
    gid: int
    groups: tuple[int, ...]
    name: str
    home: str
    shell: str


def resolve_user(service: str, spec: str | None, *, euid: int) -> ProcessUser | None:
    """The user to switch to (None: stay who the reconciler is), or a `ServiceConfigError`."""
    if spec is None:
        return None
    if euid != 0:
        raise ServiceConfigError(
            f"service '{service}': USER {spec} needs the reconciler to run as root"
        )
    try:
        entry = pwd.getpwuid(int(spec)) if spec.isdigit() else pwd.getpwnam(spec)
    except KeyError:
        if spec.isdigit():
            uid = int(spec)
            return ProcessUser(
                uid=uid, gid=uid, groups=(), name=spec, home="/", shell=DEFAULT_SHELL
            )
        raise ServiceConfigError(f"service '{service}': USER {spec}: no such user") from None
    return _from_entry(entry)


def current_user(euid: int) -> ProcessUser:
    """Who the reconciler runs as, for the base environment of a service without USER."""
    try:
        return _from_entry(pwd.getpwuid(euid))
    except KeyError:
        return ProcessUser(
            uid=euid, gid=os.getegid(), groups=(), name=str(euid), home="/", shell=DEFAULT_SHELL
        )


def _from_entry(entry: pwd.struct_passwd) -> ProcessUser:
    return ProcessUser(
        uid=entry.pw_uid,
        gid=entry.pw_gid,
        groups=tuple(os.getgrouplist(entry.pw_name, entry.pw_gid)),
        name=entry.pw_name,
        home=entry.pw_dir or "/",
        shell=entry.pw_shell or DEFAULT_SHELL,
    )


def build_environment(
    user: ProcessUser,
    *,
    host: Mapping[str, str],
    env_files: Sequence[Mapping[str, Secret]],
    env: Mapping[str, Secret],
) -> dict[str, Secret]:
    """Base environment, then each ENV_FILE in order, then ENV (later wins)."""
    result = {
        "PATH": Secret(BASE_PATH),
        "HOME": Secret(user.home),
        "USER": Secret(user.name),
        "LOGNAME": Secret(user.name),
        "SHELL": Secret(user.shell),
    }
    result.update({name: Secret(host[name]) for name in PASSED_THROUGH if name in host})
    for values in env_files:
        result.update(values)
    result.update(env)
    return result
