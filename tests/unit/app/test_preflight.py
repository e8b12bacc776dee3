"""What a desired state needs of the host, checked before anything runs: every problem at
once, each as `FILE:LINE: service 'x': ...`, an ENV_FILE's lines named but never shown."""

from __future__ import annotations

import io
import json
import tarfile
from pathlib import Path

import pytest

from reconciler.app.preflight import Host, checked, preflight
from reconciler.errors import InvalidOrchfile
from reconciler.model.desired import DesiredStack, ProjectName
from reconciler.model.network_mode import NetworkMode
from reconciler.orchfile.loader import SourceFile, load_sources
from reconciler.orchfile.semantic import ProjectContext, desired_stack

HOST = Host(cores=2, nr_open=4096, euid=0)


def stack(tmp_path: Path, text: str) -> DesiredStack:
    document = load_sources([SourceFile(name="Orchfile", text=text)], {}, {})
    context = ProjectContext(
        project=ProjectName("demo"),
        namespace="orch",
        project_dir=tmp_path,
        state_root=tmp_path / "state",
        files=(tmp_path / "Orchfile",),
    )
    return desired_stack(document, context)


def errors(tmp_path: Path, text: str) -> list[str]:
    return [str(d) for d in preflight(stack(tmp_path, text), HOST).errors]


def oci_layout(folder: Path) -> Path:
    folder.mkdir()
    (folder / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    (folder / "index.json").write_text(json.dumps({"schemaVersion": 2, "manifests": []}))
    return folder


def test_a_host_that_offers_everything_gives_no_finding(tmp_path: Path) -> None:
    oci_layout(tmp_path / "img")
    (tmp_path / "web.env").write_text("# settings\nMODE=prod\nexport TOKEN='x'\n")
    (tmp_path / "data").mkdir()
    text = (
        "SERVICE web\n  FROM ./img\n  ENV_FILE web.env\n  VOLUME ./data:/data\n"
        "  PUBLISH 80:80\n  CPUS 1\n  LIMIT_NOFILE 4096\n"
    )
    assert preflight(stack(tmp_path, text), HOST).errors == ()


def test_every_env_file_problem_is_named_without_its_content(tmp_path: Path) -> None:
    (tmp_path / "bad.env").write_text("GOOD=1\nPASSWORD hunter2\n")
    (tmp_path / "folder.env").mkdir()
    text = (
        "SERVICE web\n  RUN ./serve\n  ENV_FILE missing.env\n  ENV_FILE bad.env\n"
        "  ENV_FILE folder.env\n"
    )
    found = errors(tmp_path, text)
    assert found == [
        f"Orchfile:3: service 'web': ENV_FILE {tmp_path}/missing.env: no such file or directory",
        f"Orchfile:4: service 'web': ENV_FILE {tmp_path}/bad.env: {tmp_path}/bad.env:2: "
        "expected KEY=value",
        f"Orchfile:5: service 'web': ENV_FILE {tmp_path}/folder.env: is not a regular file",
    ]
    assert not any("hunter2" in line for line in found)


def test_a_local_from_must_be_an_oci_image_layout_or_archive(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "notes.txt").write_text("not an image")
    with tarfile.open(tmp_path / "other.tar", "w") as archive:
        data = b"x"
        member = tarfile.TarInfo("README")
        member.size = len(data)
        archive.addfile(member, io.BytesIO(data))
    good = oci_layout(tmp_path / "layout")
    with tarfile.open(tmp_path / "image.tar", "w") as archive:
        archive.add(good / "index.json", arcname="./index.json")
    text = "".join(
        f"SERVICE s{n}\n  FROM ./{name}\n"
        for n, name in enumerate(("nope", "empty", "notes.txt", "other.tar", "layout", "image.tar"))
    )
    assert errors(tmp_path, text) == [
        "Orchfile:2: service 's0': FROM ./nope: no such file or folder",
        "Orchfile:4: service 's1': FROM ./empty: is a folder but not an OCI image layout (no "
        "oci-layout, index.json)",
        "Orchfile:6: service 's2': FROM ./notes.txt: is neither an OCI image layout folder nor "
        "an OCI archive",
        "Orchfile:8: service 's3': FROM ./other.tar: is an archive without index.json: not an "
        "OCI image",
    ]


def stack_in(tmp_path: Path, text: str, network: NetworkMode) -> DesiredStack:
    document = load_sources([SourceFile(name="Orchfile", text=text)], {}, {})
    context = ProjectContext(
        project=ProjectName("demo"),
        namespace="orch",
        project_dir=tmp_path,
        state_root=tmp_path / "state",
        files=(tmp_path / "Orchfile",),
        network=network,
    )
    return desired_stack(document, context)


def test_the_host_network_refuses_remaps_bound_addresses_and_missing_bind_sources(
    tmp_path: Path,
) -> None:
    text = (
        "SERVICE web\n  FROM nginx\n  PUBLISH 8080:80\n  PUBLISH 127.0.0.1:81:81\n"
        "  VOLUME ./nowhere:/data\n"
    )
    found = [str(d) for d in preflight(stack_in(tmp_path, text, NetworkMode.HOST), HOST).errors]
    assert [line.split(": ", 2)[2].split(" ")[0:2] for line in found] == [
        ["PUBLISH", "8080:80"],
        ["PUBLISH", "127.0.0.1:81:81"],
        ["VOLUME", "source"],
    ]


def test_the_project_network_maps_remaps_and_addresses_but_not_ipv6(tmp_path: Path) -> None:
    text = (
        "SERVICE web\n  FROM nginx\n  PUBLISH 8080:80\n  PUBLISH 127.0.0.1:81:81\n"
        "  PUBLISH ::1:82:80\n  PUBLISH 0:80\n"
    )
    assert errors(tmp_path, text) == [
        "Orchfile:5: service 'web': PUBLISH ::1:82:80: the project network is IPv4 only; "
        "publish on 127.0.0.1 or an IPv4 address of this host",
        "Orchfile:6: service 'web': PUBLISH 0:80: a mapping needs a host port (1 to 65535)",
    ]


def test_a_host_port_published_twice_is_an_error_of_the_later_service(tmp_path: Path) -> None:
    text = (
        "SERVICE web\n  FROM nginx\n  PUBLISH 8080:80\n"
        "SERVICE api\n  FROM nginx\n  PUBLISH 127.0.0.1:8080:80\n  PUBLISH 127.0.0.2:9090:80\n"
        "SERVICE admin\n  FROM nginx\n  PUBLISH 127.0.0.3:9090:80\n"
    )
    assert errors(tmp_path, text) == [
        "Orchfile:6: service 'api': PUBLISH 127.0.0.1:8080:80: host port 8080 is published "
        "by service 'web' already"
    ]


def test_a_user_the_host_does_not_know_is_an_error(tmp_path: Path) -> None:
    found = errors(tmp_path, "SERVICE h\n  RUN sleep 1\n  USER no-such-user-here\n")
    assert found == ["Orchfile:3: service 'h': USER no-such-user-here: no such user"]


def test_limit_nofile_above_the_kernels_cap_is_an_error(tmp_path: Path) -> None:
    found = errors(tmp_path, "SERVICE h\n  RUN sleep 1\n  LIMIT_NOFILE 5000\n")
    assert found == [
        "Orchfile:3: service 'h': LIMIT_NOFILE 5000 is above this host's cap of 4096 "
        "(/proc/sys/fs/nr_open)"
    ]


def test_more_cpus_than_the_host_has_is_a_warning(tmp_path: Path) -> None:
    warnings = checked(stack(tmp_path, "SERVICE h\n  RUN sleep 1\n  CPUS 8\n"), HOST)
    assert [str(w) for w in warnings] == [
        "Orchfile:3: warning: service 'h': CPUS 8 is more than this host's 2 cores; the limit "
        "will never be reached"
    ]


def test_a_disabled_service_needs_nothing_of_the_host(tmp_path: Path) -> None:
    text = "SERVICE web\n  FROM ./nope\n  ENV_FILE missing.env\n  DISABLED true\n"
    assert errors(tmp_path, text) == []


def test_errors_raise_all_at_once(tmp_path: Path) -> None:
    text = "SERVICE a\n  RUN x\n  ENV_FILE a.env\nSERVICE b\n  RUN y\n  ENV_FILE b.env\n"
    with pytest.raises(InvalidOrchfile) as raised:
        checked(stack(tmp_path, text), HOST)
    assert [d.location.line if d.location else 0 for d in raised.value.diagnostics] == [3, 6]
