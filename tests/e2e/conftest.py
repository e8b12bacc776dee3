"""Fixtures for end-to-end tests: one private containerd per session, a namespace per test.

Every test under ``tests/e2e`` is marked ``e2e`` and skipped only when the containerd
binary is missing. Each test gets a fresh namespace; at teardown anything the test left
there (tasks, containers, leases, active snapshots, ingests) fails it, and the namespace
is wiped either way. The daemon's log is shown at the end of a run with failures.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from reconciler.drivers.containerd.client import ContainerdClient
from reconciler.drivers.containerd.lifecycle import ContainerLifecycle
from tests.support.containerd import (
    NamespacedContainerd,
    PrivateContainerd,
    containerd_available,
)
from tests.support.leaks import leftovers, purge
from tests.support.oci_image import BuiltImage, ImageSpec, build_image, write_archive, write_layout
from tests.support.processes import free_port
from tests.support.registry import Registry, TokenAuth, start_registry
from tests.support.run_process import RunProcess
from tests.support.stack import GRACE, Harness, import_image
from tests.support.token_server import TokenServer, TokenSigner

E2E_DIR = Path(__file__).parent
_daemon_key = pytest.StashKey[PrivateContainerd]()
LOG_LINES_ON_FAILURE = 300


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip = pytest.mark.skip(reason="containerd is not installed (the e2e tests need its binary)")
    for item in items:
        if E2E_DIR in item.path.parents:
            item.add_marker(pytest.mark.e2e)
            if not containerd_available():
                item.add_marker(skip)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    daemon = terminalreporter.config.stash.get(_daemon_key, None)
    failed = terminalreporter.stats.get("failed", []) + terminalreporter.stats.get("error", [])
    if daemon is None or not failed:
        return
    terminalreporter.section(f"containerd log (last {LOG_LINES_ON_FAILURE} lines)")
    terminalreporter.line(f"full log: {daemon.log_path}")
    terminalreporter.line(daemon.log_tail(LOG_LINES_ON_FAILURE))


@pytest.fixture(scope="session")
def containerd_daemon(
    tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config
) -> Iterator[PrivateContainerd]:
    daemon = PrivateContainerd(directory=tmp_path_factory.mktemp("ctd").resolve())
    daemon.start()
    pytestconfig.stash[_daemon_key] = daemon
    yield daemon
    daemon.stop()


def namespace_for(test_name: str) -> str:
    """A valid containerd namespace, unique per call, that still names the test."""
    words = re.sub(r"[^A-Za-z0-9]+", "-", test_name.removeprefix("test_")).strip("-")
    return f"t-{words[:60].rstrip('-')}-{secrets.token_hex(4)}"


@pytest.fixture
def containerd(
    containerd_daemon: PrivateContainerd, request: pytest.FixtureRequest
) -> Iterator[NamespacedContainerd]:
    namespace = namespace_for(request.node.name)
    view = NamespacedContainerd(daemon=containerd_daemon, namespace=namespace)
    yield view
    left = leftovers(view.ctr)
    purge(view.ctr, view.namespace)
    if left:
        pytest.fail(
            f"test left in namespace {view.namespace}: {', '.join(map(str, left))}",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def busybox_image() -> BuiltImage:
    """The default test image, ``docker.io/library/busybox:1``."""
    return build_image(ImageSpec())


@pytest.fixture(scope="session")
def busybox_layout(busybox_image: BuiltImage, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default image as an OCI layout directory (tag ``1``)."""
    return write_layout(busybox_image, tmp_path_factory.mktemp("busybox") / "layout")


@pytest.fixture(scope="session")
def busybox_archive(busybox_image: BuiltImage, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The default image as an OCI archive for ``ctr images import``."""
    return write_archive(busybox_image, tmp_path_factory.mktemp("busybox") / "busybox.tar")


@pytest.fixture(scope="session")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """An open registry on 127.0.0.1 (plain HTTP, anonymous push and pull)."""
    running = start_registry(tmp_path_factory.mktemp("registry").resolve())
    yield running
    running.stop()


@pytest.fixture(scope="session")
def token_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TokenServer]:
    """Issues registry tokens to user ``alice`` with password ``wonderland`` only."""
    signer = TokenSigner.create(tmp_path_factory.mktemp("token").resolve())
    server = TokenServer(signer=signer, username="alice", password="wonderland", port=free_port())
    yield server.start()
    server.stop()


@pytest.fixture(scope="session")
def token_registry(
    tmp_path_factory: pytest.TempPathFactory, token_server: TokenServer
) -> Iterator[Registry]:
    """A registry that demands bearer tokens from ``token_server`` (``.auth`` has the login)."""
    auth = TokenAuth(
        realm=token_server.realm,
        certificate=token_server.signer.certificate_path,
        username=token_server.username,
        password=token_server.password,
    )
    running = start_registry(tmp_path_factory.mktemp("token-registry").resolve(), auth=auth)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def app_image(tmp_path_factory: pytest.TempPathFactory) -> tuple[BuiltImage, Path]:
    image = build_image(
        ImageSpec(name="lifecycle:1", user="app", env=("FROM_IMAGE=image", "SHARED=image"))
    )
    archive = write_archive(image, tmp_path_factory.mktemp("lifecycle") / "image.tar")
    return image, archive


@pytest_asyncio.fixture
async def harness(
    containerd: NamespacedContainerd, app_image: tuple[BuiltImage, Path], tmp_path: Path
) -> AsyncIterator[Harness]:
    image = import_image(containerd, *app_image)
    async with ContainerdClient(address=containerd.address, namespace=containerd.namespace) as c:
        await c.wait_until_ready(timeout=10)
        project = tmp_path / "project"
        project.mkdir()
        yield Harness(
            containerd=containerd,
            client=c,
            lifecycle=ContainerLifecycle(c),
            image=image,
            project_dir=project,
            state_root=tmp_path / "state",
        )
        for line in containerd.ctr("containers", "ls", "-q").split():
            await ContainerLifecycle(c).remove(line, grace=GRACE)
    containerd.ctr("images", "rm", "--sync", image.name)


@pytest.fixture
def run(
    containerd: NamespacedContainerd, busybox_image: BuiltImage, tmp_path: Path
) -> Iterator[RunProcess]:
    """A project folder with the busybox image as `./img`, and a `reconciler run` for it
    (not started: the test writes its Orchfile first). Ends with `down` and
    `leak-check`, and stops a `run` that is still alive."""
    directory = tmp_path / "app"
    directory.mkdir()
    write_layout(busybox_image, directory / "img")
    process = RunProcess(directory, containerd, tmp_path / "state")
    yield process
    try:
        process.down_and_check_leaks()
    finally:
        if process.alive:
            process.stop()
        containerd.ctr("images", "rm", "--sync", busybox_image.reference)
