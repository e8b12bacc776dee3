"""Merge overlay files left to right, by the Orch spec's rules.

- ARG defaults: the last file that defines one wins.
- Services: a service of an overlay merges into the base's service of that name (which
  keeps its place); a new one is appended.
- Scalars: the overlay's value wins; an omitted one keeps the base's.
- FROM on a host service switches it to a container (dropping RUN, USER, STOP, RELOAD);
  RUN on a container service switches it to the host (dropping FROM, ENTRYPOINT, CMD,
  PUBLISH, VOLUME). The dropped directives no longer count for C2/C3 either.
- Keyed lists merge by key, compared on the text before `${}` expansion: ENV by key,
  PUBLISH by container port, VOLUME by destination; the overlay's entry replaces the
  base's in place, a new key is appended.
- REQUIRES, AFTER and ENV_FILE append, dropping entries already present.
- A list the overlay's block CLEARed is replaced by the overlay's entries.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from types import MappingProxyType
from typing import TypeVar

from reconciler.orchfile.raw import (
    CONTAINER_SCALARS,
    HOST_SCALARS,
    EnvEntry,
    PublishEntry,
    RawArg,
    RawFile,
    RawList,
    RawService,
    Scalar,
    Sourced,
    VolumeEntry,
    Word,
)

_T = TypeVar("_T")


def merge_files(files: Sequence[RawFile]) -> RawFile:
    args: dict[str, RawArg] = {}
    services: dict[str, RawService] = {}
    for raw in files:
        args.update(raw.args)
        for service in raw.services:
            base = services.get(service.name)
            services[service.name] = service if base is None else merge_service(base, service)
    return RawFile(args=MappingProxyType(args), services=tuple(services.values()))


def merge_service(base: RawService, overlay: RawService) -> RawService:
    from_, run = base.from_, base.run
    scalars: dict[Scalar, Sourced] = dict(base.scalars)
    container_uses, host_uses = base.container_uses, base.host_uses
    publish, volumes = base.publish, base.volumes
    if overlay.from_ is not None and base.run is not None:
        run = None
        for scalar in HOST_SCALARS:
            scalars.pop(scalar, None)
        host_uses = ()
    if overlay.run is not None and base.from_ is not None:
        from_ = None
        for scalar in CONTAINER_SCALARS:
            scalars.pop(scalar, None)
        publish, volumes = RawList[PublishEntry](), RawList[VolumeEntry]()
        container_uses = ()
    scalars.update(overlay.scalars)
    return RawService(
        name=base.name,
        at=base.at,
        from_=overlay.from_ or from_,
        run=overlay.run or run,
        scalars=MappingProxyType(scalars),
        env=_merge_keyed(base.env, overlay.env, _env_key),
        env_files=_merge_appending(base.env_files, overlay.env_files),
        publish=_merge_keyed(publish, overlay.publish, _publish_key),
        volumes=_merge_keyed(volumes, overlay.volumes, _volume_key),
        requires=_merge_appending(base.requires, overlay.requires),
        after=_merge_appending(base.after, overlay.after),
        container_uses=container_uses + overlay.container_uses,
        host_uses=host_uses + overlay.host_uses,
    )


def _env_key(entry: EnvEntry) -> str:
    return entry.key


def _publish_key(entry: PublishEntry) -> str:
    return entry.container


def _volume_key(entry: VolumeEntry) -> str:
    return entry.destination


def _merge_keyed(base: RawList[_T], overlay: RawList[_T], key: Callable[[_T], str]) -> RawList[_T]:
    if overlay.cleared:
        return RawList(items=overlay.items)
    merged = list(base.items)
    for entry in overlay.items:
        position = next((i for i, old in enumerate(merged) if key(old) == key(entry)), None)
        if position is None:
            merged.append(entry)
        else:
            merged[position] = entry
    return RawList(items=tuple(merged))


def _merge_appending(base: RawList[Word], overlay: RawList[Word]) -> RawList[Word]:
    if overlay.cleared:
        return RawList(items=overlay.items)
    merged = list(base.items)
    present = {word.text for word in merged}
    for word in overlay.items:
        if word.text not in present:
            merged.append(word)
            present.add(word.text)
    return RawList(items=tuple(merged))
