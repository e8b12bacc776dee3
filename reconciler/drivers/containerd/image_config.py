"""The parts of an OCI image config that decide how a container's process starts.

Read from the image's config blob (`application/vnd.oci.image.config.v1+json` or Docker's
equivalent, which has the same `config` object). Unknown fields are ignored; fields of
the wrong type are an `ImageError` naming the image, not a crash.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Final

from reconciler.errors import ImageError

DEFAULT_STOP_SIGNAL: Final = "SIGTERM"


def _no_labels() -> MappingProxyType[str, str]:
    return MappingProxyType({})


@dataclass(frozen=True, kw_only=True)
class ImageConfig:
    entrypoint: tuple[str, ...] = ()
    cmd: tuple[str, ...] = ()
    env: tuple[str, ...] = ()
    working_dir: str = ""
    user: str = ""
    labels: Mapping[str, str] = field(default_factory=_no_labels)
    stop_signal: str = DEFAULT_STOP_SIGNAL
    exposed_ports: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, data: bytes, image: str) -> ImageConfig:
        try:
            document = json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ImageError(f"image '{image}': the config blob is not JSON ({error})") from error
        if not isinstance(document, dict):
            raise ImageError(f"image '{image}': the config blob is not a JSON object")
        config = document.get("config") or {}
        if not isinstance(config, dict):
            raise ImageError(f"image '{image}': the config's 'config' is not an object")
        return cls(
            entrypoint=_strings(config, "Entrypoint", image),
            cmd=_strings(config, "Cmd", image),
            env=_strings(config, "Env", image),
            working_dir=_string(config, "WorkingDir", image),
            user=_string(config, "User", image),
            labels=MappingProxyType(_labels(config, image)),
            stop_signal=_string(config, "StopSignal", image) or DEFAULT_STOP_SIGNAL,
            exposed_ports=_exposed_ports(config, image),
        )


def _strings(config: dict[str, Any], key: str, image: str) -> tuple[str, ...]:
    value = config.get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ImageError(f"image '{image}': config {key} is not a list of strings")
    return tuple(value)


def _string(config: dict[str, Any], key: str, image: str) -> str:
    value = config.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ImageError(f"image '{image}': config {key} is not a string")
    return value


def _exposed_ports(config: dict[str, Any], image: str) -> tuple[str, ...]:
    value = config.get("ExposedPorts") or {}
    if not isinstance(value, dict):
        raise ImageError(f"image '{image}': config ExposedPorts is not an object")
    return tuple(sorted(str(port) for port in value))


def _labels(config: dict[str, Any], image: str) -> dict[str, str]:
    value = config.get("Labels") or {}
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ImageError(f"image '{image}': config Labels is not a map of strings")
    return dict(value)
