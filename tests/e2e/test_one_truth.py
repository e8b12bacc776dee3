"""`validate`, `plan`, `apply` and `--wait` tell the same truth, and fail fast with it.

Every mistake is refused by `validate` with exactly the lines `apply` prints, and `apply`
then changes nothing on the host (a service already running keeps its process). `plan`
lists everything `apply` will do, in its order, sees a tag that moved in the registry,
and says which services would fail. `apply --wait` stops at the first impossibility and
says why. Each test ends with `down` and `leak-check`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.oci_image import ImageSpec, build_image, write_layout
from tests.support.registry import Registry
from tests.support.run_process import RunProcess

GOOD = "SERVICE keeper\n  FROM ./img\n  CMD sleep 1000\n  TIMEOUT_STOP 1s\n"


def write_file(relative: str, text: str) -> Callable[[Path], None]:
    def write(folder: Path) -> None:
        (folder / relative).write_text(text)

    return write


def nothing(folder: Path) -> None:
    """No file to prepare."""


MISTAKES = {
    "missing ENV_FILE": ("  ENV_FILE missing.env\n", nothing, "ENV_FILE "),
    "malformed ENV_FILE": (
        "  ENV_FILE bad.env\n",
        write_file("bad.env", "OK=1\nPASSWORD hunter2\n"),
        "bad.env:2: expected KEY=value",
    ),
    "unprobed HEALTHCHECK scheme": ("  HEALTHCHECK ftp://x/\n", nothing, "scheme 'ftp'"),
    "MEMORY 1": ("  MEMORY 1\n", nothing, "MEMORY '1' is out of range"),
    "MEMORY 99999999999T": ("  MEMORY 99999999999T\n", nothing, "is out of range"),
    "CPUS 1e308": ("  CPUS 1e308\n", nothing, "more than the kernel's CPU quota"),
    "FROM ./nonexist": ("", nothing, "FROM ./nonexist: no such file or folder"),
    "NUL in ENV": ("  ENV A=b\x00c\n", nothing, "ENV A: contains a NUL byte"),
    "PUBLISH on IPv6 in the project network": ("  PUBLISH ::1:18080:80\n", nothing, "IPv4 only"),
    "missing bind source": ("  VOLUME ./nowhere:/data\n", nothing, "does not exist"),
}


def mistaken(name: str, extra: str) -> str:
    image = "./nonexist" if name == "FROM ./nonexist" else "./img"
    return GOOD + f"\nSERVICE bad\n  FROM {image}\n  CMD sleep 1000\n{extra}"


@pytest.mark.parametrize("name", list(MISTAKES))
def test_a_mistake_fails_validate_plan_and_apply_alike_and_changes_nothing(
    run: RunProcess, name: str
) -> None:
    extra, prepare, expected = MISTAKES[name]
    run.orchfile.write_text(GOOD)
    assert run.cli("apply", "--wait", "--timeout", "60s").returncode == 0
    before = run.pids("keeper")
    prepare(run.directory)
    run.orchfile.write_text(mistaken(name, extra))

    validate = run.cli("validate")
    plan = run.cli("plan")
    apply = run.cli("apply", "--wait", "--timeout", "60s")

    assert validate.returncode == 1
    assert expected in validate.stderr, validate.stderr
    assert re.match(r"^\S*Orchfile:\d+: service 'bad': ", validate.stderr)
    assert (plan.returncode, plan.stderr) == (1, validate.stderr)
    assert (apply.returncode, apply.stderr) == (1, validate.stderr)
    assert "hunter2" not in validate.stderr + apply.stderr
    assert "Traceback" not in validate.stderr + plan.stderr + apply.stderr
    assert run.containers() == ["app-keeper"]
    assert run.pids("keeper") == before
    run.orchfile.write_text(GOOD)


SIX = """\
SERVICE web
  FROM ./img
  CMD sleep 1000
  REQUIRES api
  TIMEOUT_STOP 1s

SERVICE db
  FROM ./img
  CMD sh -c 'touch /tmp/ready; sleep 1000'
  HEALTHCHECK test -e /tmp/ready
  TIMEOUT_STOP 1s

SERVICE api
  FROM ./img
  CMD sleep 1000
  REQUIRES db migrate
  TIMEOUT_STOP 1s

SERVICE migrate
  FROM ./img
  CMD true
  ONESHOT true
  REQUIRES db

SERVICE cache
  FROM ./img
  CMD sleep 1000
  TIMEOUT_STOP 1s

SERVICE worker
  FROM ./img
  CMD sleep 1000
  REQUIRES api
  AFTER cache
  TIMEOUT_STOP 1s
"""


def test_plan_on_a_fresh_stack_lists_all_of_it_in_the_order_apply_creates_it(
    run: RunProcess,
) -> None:
    run.orchfile.write_text(SIX)

    plan = run.cli("plan")
    apply = run.cli("apply", "--wait", "--timeout", "90s")

    assert plan.returncode == 2, plan.stderr
    assert plan.stdout == (
        "create db: not created yet\n"
        "create cache: not created yet\n"
        "create migrate: not created yet (waits for db healthy)\n"
        "create api: not created yet (waits for db healthy, migrate completed)\n"
        "create web: not created yet (waits for api running)\n"
        "create worker: not created yet (waits for api running, cache started)\n"
    )
    assert apply.returncode == 0, apply.stdout + apply.stderr
    created = re.findall(r"create (\w+): not created yet", apply.stderr)
    planned = re.findall(r"create (\w+):", plan.stdout)
    assert sorted(created) == sorted(planned)
    for later, earlier in (("migrate", "db"), ("api", "migrate"), ("web", "api")):
        assert created.index(later) > created.index(earlier), created
    assert (run.cli("plan").returncode, run.cli("plan").stdout) == (0, "no changes\n")


def test_apply_wait_stops_as_soon_as_a_required_oneshot_fails_and_says_why(
    run: RunProcess,
) -> None:
    run.orchfile.write_text(
        "SERVICE migrate\n  FROM ./img\n  CMD sh -c 'exit 1'\n  ONESHOT true\n\n"
        "SERVICE web\n  FROM ./img\n  CMD sleep 1000\n  REQUIRES migrate\n  TIMEOUT_STOP 1s\n"
    )
    started = time.monotonic()

    apply = run.cli("apply", "--wait", "--timeout", "120s")

    assert apply.returncode == 1
    assert time.monotonic() - started < 30, "waited for the timeout"
    assert apply.stdout == (
        "not converged:\n"
        "  migrate: exited (exit code 1; not restarted (RESTART no))\n"
        "  web: blocked (waiting for migrate (exited))\n"
    )


def test_status_without_an_orchfile_is_an_error(run: RunProcess) -> None:
    done = run.cli("status")
    assert done.returncode == 1
    assert "Orchfile" in done.stdout + done.stderr
    run.orchfile.write_text(GOOD)  # for the teardown's `down`


@pytest.fixture
def moving_tag(registry: Registry, tmp_path: Path) -> tuple[str, Callable[[], None]]:
    first = build_image(ImageSpec(name="moving:1"))
    reference = registry.push(write_layout(first, tmp_path / "first"), first.tag, "truth/app:1")

    def move() -> None:
        second = build_image(ImageSpec(name="moving:1", env=("MOVED=1",)))
        registry.push(write_layout(second, tmp_path / "second"), second.tag, "truth/app:1")

    return reference, move


def test_plan_sees_a_tag_that_moved_in_the_registry_as_apply_would(
    run: RunProcess, moving_tag: tuple[str, Callable[[], None]]
) -> None:
    reference, move = moving_tag
    run.orchfile.write_text(
        f"SERVICE reg\n  FROM {reference}\n  CMD sleep 1000\n  TIMEOUT_STOP 1s\n"
    )
    assert run.cli("apply", "--wait", "--timeout", "60s").returncode == 0
    assert run.cli("plan").stdout == "no changes\n"

    move()
    plan = run.cli("plan")
    offline = run.cli("plan", "--offline")
    apply = run.cli("apply", "--wait", "--timeout", "60s")

    assert (plan.returncode, plan.stdout) == (
        2,
        f"recreate reg: image changed ({reference} names a new digest in its registry)\n",
    )
    assert (offline.returncode, offline.stdout) == (0, "no changes\n")
    assert "registry tags not checked (--offline)" in offline.stderr
    assert apply.returncode == 0
    assert "recreate reg: image changed" in apply.stderr
    assert run.containerd is not None
    run.cli("down")
    run.containerd.ctr("images", "rm", "--sync", reference)


def test_a_name_another_project_owns_is_said_so_and_never_its_leak(
    run: RunProcess, tmp_path: Path
) -> None:
    # `<project>-<service>` ids meet: project `app` with `x-web`, project `app-x` with `web`.
    other_dir = tmp_path / "other"
    other_dir.mkdir()
    (other_dir / "img").symlink_to(run.directory / "img")
    other = RunProcess(other_dir, run.containerd, run.state, project="app-x")
    other.orchfile.write_text("SERVICE web\n  FROM ./img\n  CMD sleep 1000\n  TIMEOUT_STOP 1s\n")
    assert other.cli("apply", "--wait", "--timeout", "60s").returncode == 0
    run.orchfile.write_text("SERVICE x-web\n  FROM ./img\n  CMD sleep 1000\n  TIMEOUT_STOP 1s\n")
    try:
        apply = run.cli("apply", "--timeout", "30s")
        status = run.status()
        leaks = run.cli("leak-check", "-o", "json")
    finally:
        assert other.cli("down").returncode == 0

    assert apply.returncode == 1
    assert "container 'app-x-web' belongs to project 'app-x'" in apply.stdout + apply.stderr
    assert status["leaks"] == {"tasks": [], "containers": [], "snapshots": [], "leases": []}
    assert leaks.returncode == 0, leaks.stdout
