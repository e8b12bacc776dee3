"""Resolve an image's `User` (`app`, `1000`, `app:staff`, `1000:50`) to numeric ids.

runc wants numbers. Numbers pass through; names are looked up in the image's own
`/etc/passwd` and `/etc/group` (read from the unpacked snapshot by the caller), as
containerd's Go client does. Supplementary groups are the groups listing the user.
Pure: the file contents come in as text (None when the image has no such file).
"""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.errors import ImageError


@dataclass(frozen=True, kw_only=True)
class ProcessUser:
    uid: int
    gid: int
    additional_gids: tuple[int, ...] = ()


ROOT = ProcessUser(uid=0, gid=0)


@dataclass(frozen=True, kw_only=True)
class _PasswdEntry:
    name: str
    uid: int
    gid: int


@dataclass(frozen=True, kw_only=True)
class _GroupEntry:
    name: str
    gid: int
    members: tuple[str, ...]


def resolve_user(spec: str, passwd: str | None, group: str | None, image: str) -> ProcessUser:
    if not spec:
        return ROOT
    user_part, _, group_part = spec.partition(":")
    users = _passwd(passwd or "")
    groups = _groups(group or "")
    entry: _PasswdEntry | None = None
    if user_part.isdigit():
        uid = int(user_part)
        entry = next((u for u in users if u.uid == uid), None)
        gid = entry.gid if entry else 0
    else:
        entry = next((u for u in users if u.name == user_part), None)
        if entry is None:
            raise ImageError(f"image '{image}': user '{user_part}' is not in its /etc/passwd")
        uid, gid = entry.uid, entry.gid
    if group_part:
        if group_part.isdigit():
            gid = int(group_part)
        else:
            found = next((g for g in groups if g.name == group_part), None)
            if found is None:
                raise ImageError(f"image '{image}': group '{group_part}' is not in its /etc/group")
            gid = found.gid
    name = entry.name if entry else None
    extra = sorted({g.gid for g in groups if name is not None and name in g.members} - {gid})
    return ProcessUser(uid=uid, gid=gid, additional_gids=(gid, *extra))


def _passwd(text: str) -> list[_PasswdEntry]:
    entries = []
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) >= 4 and fields[2].isdigit() and fields[3].isdigit():
            entries.append(_PasswdEntry(name=fields[0], uid=int(fields[2]), gid=int(fields[3])))
    return entries


def _groups(text: str) -> list[_GroupEntry]:
    entries = []
    for line in text.splitlines():
        fields = line.split(":")
        if len(fields) >= 4 and fields[2].isdigit():
            members = tuple(m for m in fields[3].split(",") if m)
            entries.append(_GroupEntry(name=fields[0], gid=int(fields[2]), members=members))
    return entries
