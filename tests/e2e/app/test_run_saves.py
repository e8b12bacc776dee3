"""`run` under every way people and tools save a file: a save is applied once it is
finished, nothing that both versions keep is ever stopped, and a save that would remove
every service is held.

Each test starts a real `reconciler run`, saves the Orchfile the way one editor or tool
does (the new version keeps `web` and `worker` and adds `extra`), waits for `extra` to
run, and checks with `ctr` that `web` and `worker` kept their processes. Each ends with
`down` and `leak-check`.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.polling import eventually
from tests.support.run_process import RunProcess

BASE = """\
# the stack
SERVICE web
  FROM ./img
  CMD sleep 1000
  TIMEOUT_STOP 1s

SERVICE worker
  FROM ./img
  CMD sleep 1000
  REQUIRES web
  TIMEOUT_STOP 1s
"""
EXTRA = (
    BASE
    + """
SERVICE extra
  FROM ./img
  CMD sleep 1000
  TIMEOUT_STOP 1s
"""
)
VIM = shutil.which("vim") or shutil.which("vim.tiny")


@pytest.fixture
def started(run: RunProcess) -> RunProcess:
    run.orchfile.write_text(BASE)
    run.start()
    run.wait_running("web", "worker")
    return run


def sh(command: str, cwd: Path) -> None:
    subprocess.run(["sh", "-c", command], cwd=cwd, check=True, timeout=60)


def vim_save(backupcopy: str) -> Callable[[Path], None]:
    def save(orchfile: Path) -> None:
        assert VIM is not None
        (orchfile.parent / "extra.txt").write_text(EXTRA[len(BASE) :])
        subprocess.run(
            [
                VIM, "-u", "NONE", "-i", "NONE", "-es",
                "-c", f"set backupcopy={backupcopy} backup writebackup",
                "-c", "$r extra.txt", "-c", "wq", str(orchfile),
            ],
            cwd=orchfile.parent, check=True, timeout=60, stdin=subprocess.DEVNULL,
        )  # fmt: skip

    return save


def sed_in_place(orchfile: Path) -> None:
    (orchfile.parent / "extra.txt").write_text(EXTRA[len(BASE) :])
    sh("sed -i '$r extra.txt' Orchfile", orchfile.parent)


def cp_over(orchfile: Path) -> None:
    (orchfile.parent / "new.orch").write_text(EXTRA)
    sh("cp new.orch Orchfile", orchfile.parent)


def mv_over(orchfile: Path) -> None:
    (orchfile.parent / "new.orch").write_text(EXTRA)
    sh("mv new.orch Orchfile", orchfile.parent)


def cat_in_two_writes(orchfile: Path) -> None:
    # `cat > Orchfile` typed by hand: truncated at once, the rest a moment later.
    (orchfile.parent / "first").write_text(BASE)
    (orchfile.parent / "second").write_text(EXTRA[len(BASE) :])
    sh("{ cat first; sleep 1.5; cat second; } > Orchfile", orchfile.parent)


def python_open_w_pause_write(orchfile: Path) -> None:
    with orchfile.open("w") as file:
        time.sleep(0.5)  # the writer's own pause: the file is empty meanwhile
        file.write(EXTRA)


def render_redirect(orchfile: Path) -> None:
    # The shell truncates the Orchfile, then the reconciler (0.5 s to start) writes YAML.
    (orchfile.parent / "src.orch").write_text(EXTRA)
    sh(f"{sys.executable} -m reconciler render -o yaml src.orch > Orchfile", orchfile.parent)


def delete_then_recreate(orchfile: Path) -> None:
    orchfile.unlink()
    time.sleep(1)  # the user's own pause between deleting and writing again
    orchfile.write_text(EXTRA)


def git_checkout(orchfile: Path) -> None:
    # Both revisions are committed without touching the file; then `git checkout` of
    # the other revision rewrites it, the way git does (unlink, create, write, close).
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(orchfile.parent)]

    def output(*args: str, data: str | None = None) -> str:
        done = subprocess.run([*git, *args], input=data, capture_output=True, text=True, check=True)
        return done.stdout.strip()

    output("init", "-q", "-b", "main")
    output("add", "Orchfile")
    output("commit", "-qm", "base")
    output("checkout", "-qb", "extra")
    blob = output("hash-object", "-w", "--stdin", data=EXTRA)
    output("update-index", "--cacheinfo", f"100644,{blob},Orchfile")
    output("commit", "-qm", "extra")
    output("checkout", "-qf", "main")
    output("checkout", "-q", "extra")
    assert orchfile.read_text() == EXTRA


def fifty_saves_in_five_seconds(orchfile: Path) -> None:
    for index in range(50):
        orchfile.write_text((EXTRA if index % 2 else BASE) + f"# save {index}\n")
        time.sleep(0.1)
    orchfile.write_text(EXTRA)


SAVES = {
    "sed -i": sed_in_place,
    "cp over": cp_over,
    "mv over": mv_over,
    "cat > in two writes": cat_in_two_writes,
    "open(w) + pause + write": python_open_w_pause_write,
    "render > Orchfile": render_redirect,
    "delete, recreate 1s later": delete_then_recreate,
    "git checkout": git_checkout,
    "50 saves in 5s": fifty_saves_in_five_seconds,
}
if VIM is not None:
    SAVES["vim (backupcopy=yes)"] = vim_save("yes")
    SAVES["vim (backupcopy=no)"] = vim_save("no")


@pytest.mark.parametrize("save", SAVES.values(), ids=list(SAVES))
def test_a_save_is_applied_once_finished_and_stops_nothing_it_keeps(
    started: RunProcess, save: Callable[[Path], None]
) -> None:
    run = started
    before = run.pids("web", "worker")

    save(run.orchfile)

    run.wait_running("extra", timeout=30)
    assert run.pids("web", "worker") == before
    eventually(run.converged, timeout=30, what="converged after the save")
    assert run.pids("web", "worker") == before
    assert not run.logged("Traceback")


def test_an_emptied_file_removes_nothing_and_down_confirms(started: RunProcess) -> None:
    run = started
    before = run.pids("web", "worker")

    run.orchfile.write_text("")

    eventually(
        lambda: run.logged("save not applied: it would remove every service (web, worker)"),
        timeout=15,
        what="the held save",
    )
    assert run.pids("web", "worker") == before
    status = run.status()
    assert status["reconciler"]["rejected_save"]["held"] is True
    assert [s["name"] for s in status["services"]] == ["web", "worker"]
    run.orchfile.write_text(BASE)  # the services' logs stay theirs until `down` (#15)


def test_a_file_with_no_service_is_held_and_apply_with_it_confirms(started: RunProcess) -> None:
    run = started
    run.orchfile.write_text("# everything moved elsewhere\nARG x=1\n")
    eventually(lambda: run.logged("save not applied"), timeout=15, what="the held save")
    assert run.running("web", "worker")

    done = run.cli("apply")

    assert done.returncode == 0, done.stdout + done.stderr
    eventually(lambda: run.containers() == [], timeout=30, what="everything removed")
    assert run.alive
    run.orchfile.write_text(BASE)  # the services' logs stay theirs until `down` (#15)
