"""The home-made busybox image is valid for containerd's own CLI and for skopeo."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.support.containerd import NamespacedContainerd
from tests.support.oci_image import (
    BuiltImage,
    ImageSpec,
    MediaTypes,
    build_image,
    write_archive,
)


def import_and_run(
    containerd: NamespacedContainerd, archive: Path, reference: str, *command: str
) -> str:
    """Import with ``ctr``, run once with ``--rm``, remove the image; return the output."""
    containerd.ctr("images", "import", "--base-name", reference.rpartition(":")[0], str(archive))
    try:
        return containerd.ctr("run", "--rm", reference, "run-once", *command)
    finally:
        containerd.ctr("images", "rm", "--sync", reference)


def test_ctr_imports_the_archive_and_runs_echo_in_it(
    containerd: NamespacedContainerd, busybox_archive: Path, busybox_image: BuiltImage
) -> None:
    output = import_and_run(containerd, busybox_archive, busybox_image.reference, "echo", "hello")

    assert output == "hello\n"


def test_the_imported_image_unpacks_to_the_chain_id_the_builder_predicts(
    containerd: NamespacedContainerd, busybox_archive: Path, busybox_image: BuiltImage
) -> None:
    containerd.ctr("images", "import", str(busybox_archive))

    snapshots = containerd.ctr("snapshots", "ls")
    containerd.ctr("images", "rm", "--sync", busybox_image.reference)
    assert busybox_image.chain_id in snapshots


def test_the_image_has_root_app_and_nobody_users_and_a_sticky_tmp(
    containerd: NamespacedContainerd, busybox_archive: Path, busybox_image: BuiltImage
) -> None:
    script = "id app; id nobody; stat -c %a /tmp; cat /etc/hostname"
    output = import_and_run(
        containerd, busybox_archive, busybox_image.reference, "sh", "-c", script
    )

    assert output.splitlines() == [
        "uid=1000(app) gid=1000(app) groups=1000(app)",
        "uid=65534(nobody) gid=65534(nobody) groups=65534(nobody)",
        "1777",
        "busybox",
    ]


def test_entrypoint_user_and_working_dir_from_the_config_are_applied(
    containerd: NamespacedContainerd, tmp_path: Path
) -> None:
    spec = ImageSpec(
        name="configured:1",
        entrypoint=("sh", "-c"),
        cmd=("echo $(id -u) $PWD $GREETING",),
        user="app",
        working_dir="/home/app",
        env=("GREETING=hi",),
    )
    image = build_image(spec)
    archive = write_archive(image, tmp_path / "configured.tar")
    containerd.ctr("images", "import", str(archive))
    try:
        # Without a command, ctr run takes Entrypoint + Cmd from the image config.
        output = containerd.ctr("run", "--rm", image.reference, "configured")
    finally:
        containerd.ctr("images", "rm", "--sync", image.reference)

    assert output == "1000 /home/app hi\n"


@pytest.mark.parametrize(
    "spec",
    [
        pytest.param(ImageSpec(name="bbdocker:1", media_types=MediaTypes.DOCKER), id="docker"),
        pytest.param(ImageSpec(name="bbmulti:1", multi_platform=True), id="multi-platform"),
    ],
)
def test_docker_and_multi_platform_variants_import_and_run(
    containerd: NamespacedContainerd, tmp_path: Path, spec: ImageSpec
) -> None:
    image = build_image(spec)
    archive = write_archive(image, tmp_path / "variant.tar")

    output = import_and_run(containerd, archive, image.reference, "echo", "hello")

    assert output == "hello\n"


def test_skopeo_reads_the_layout_by_its_tag(
    busybox_layout: Path, busybox_image: BuiltImage
) -> None:
    inspected = subprocess.run(
        ["skopeo", "inspect", f"oci:{busybox_layout}:{busybox_image.tag}"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )

    details = json.loads(inspected.stdout)
    assert details["Digest"] == busybox_image.manifest.digest
    assert details["Layers"] == [layer.digest for layer in busybox_image.layers]
