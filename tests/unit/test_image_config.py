"""The OCI image config blob, read into the fields that decide how a process starts."""

from __future__ import annotations

import json
from typing import Any

import pytest

from reconciler.drivers.containerd.image_config import DEFAULT_STOP_SIGNAL, ImageConfig
from reconciler.errors import ImageError

IMAGE = "localhost:5000/web:1"


def blob(config: Any, **top: Any) -> bytes:
    return json.dumps({"architecture": "amd64", "os": "linux", "config": config, **top}).encode()


def test_every_process_field_is_read_from_the_config_object() -> None:
    config = ImageConfig.from_json(
        blob(
            {
                "Entrypoint": ["/bin/entry", "-x"],
                "Cmd": ["serve", "--port", "80"],
                "Env": ["PATH=/usr/bin:/bin", "LANG=C.UTF-8"],
                "WorkingDir": "/srv",
                "User": "app:staff",
                "Labels": {"org.example.test": "1"},
                "StopSignal": "SIGQUIT",
                "ExposedPorts": {"80/tcp": {}, "443/tcp": {}},
            }
        ),
        IMAGE,
    )

    assert config == ImageConfig(
        entrypoint=("/bin/entry", "-x"),
        cmd=("serve", "--port", "80"),
        env=("PATH=/usr/bin:/bin", "LANG=C.UTF-8"),
        working_dir="/srv",
        user="app:staff",
        labels={"org.example.test": "1"},
        stop_signal="SIGQUIT",
        exposed_ports=("443/tcp", "80/tcp"),
    )


def test_a_config_without_a_config_object_has_empty_defaults() -> None:
    config = ImageConfig.from_json(json.dumps({"os": "linux"}).encode(), IMAGE)

    assert config == ImageConfig()


def test_null_fields_are_read_as_absent() -> None:
    nulls = dict.fromkeys(
        ("Entrypoint", "Cmd", "Env", "WorkingDir", "User", "Labels", "StopSignal", "ExposedPorts")
    )

    assert ImageConfig.from_json(blob(nulls), IMAGE) == ImageConfig()


def test_the_stop_signal_defaults_to_sigterm() -> None:
    assert ImageConfig.from_json(blob({}), IMAGE).stop_signal == DEFAULT_STOP_SIGNAL == "SIGTERM"


def test_unknown_fields_are_ignored() -> None:
    config = ImageConfig.from_json(
        blob({"Cmd": ["sh"], "Healthcheck": {"Test": ["NONE"]}}, rootfs={"type": "layers"}),
        IMAGE,
    )

    assert config.cmd == ("sh",)


def test_the_labels_are_read_only() -> None:
    config = ImageConfig.from_json(blob({"Labels": {"a": "b"}}), IMAGE)

    with pytest.raises(TypeError):
        config.labels["a"] = "c"  # type: ignore[index]


@pytest.mark.parametrize(
    "data",
    [b"not json", b"\xff\xfe\x00", b"{", b""],
    ids=["text", "not-utf8", "truncated", "empty"],
)
def test_a_blob_that_is_not_json_is_an_image_error_naming_the_image(data: bytes) -> None:
    with pytest.raises(ImageError, match="web:1"):
        ImageConfig.from_json(data, IMAGE)


@pytest.mark.parametrize("document", [[], "config", 42, None])
def test_a_blob_that_is_not_a_json_object_is_an_image_error_naming_the_image(
    document: Any,
) -> None:
    with pytest.raises(ImageError, match="web:1"):
        ImageConfig.from_json(json.dumps(document).encode(), IMAGE)


@pytest.mark.parametrize("config", [["Cmd"], "sh", 1])
def test_a_config_object_of_the_wrong_type_is_an_image_error_naming_the_image(
    config: Any,
) -> None:
    with pytest.raises(ImageError, match="web:1"):
        ImageConfig.from_json(blob(config), IMAGE)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("Entrypoint", "/bin/sh -c"),
        ("Entrypoint", [1, 2]),
        ("Cmd", "serve"),
        ("Cmd", {"a": "b"}),
        ("Env", "PATH=/bin"),
        ("Env", ["A=1", None]),
        ("WorkingDir", ["/srv"]),
        ("User", 1000),
        ("StopSignal", 15),
        ("Labels", ["a=b"]),
        ("Labels", {"a": 1}),
        ("ExposedPorts", 80),
        ("ExposedPorts", True),
        ("ExposedPorts", "80/tcp"),
    ],
)
def test_a_field_of_the_wrong_type_is_an_image_error_naming_the_image(
    field: str, value: Any
) -> None:
    with pytest.raises(ImageError, match="web:1"):
        ImageConfig.from_json(blob({field: value}), IMAGE)
