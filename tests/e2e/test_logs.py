"""Services' logs under `reconciler run`, against real containerd and real host
processes: kept within their limits while services write as fast as they can,
followed by `logs -f` across every rotation, private, and gone with their service or
with `down` (named volumes kept unless `down --volumes`).

Every test ends with `down` and `leak-check` (the `run` fixture).
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from reconciler.logfiles import layout
from reconciler.logfiles.keeper import PERIOD
from tests.support.polling import eventually
from tests.support.run_process import RunProcess

MAX_SIZE = 512 << 10
MAX_FILES = 4
SECONDS = 20
# Numbered lines as fast as the shell can write them, for SECONDS, then END; then idle,
# so that no restart policy is involved.
CHATTY = (
    f"i=0; end=$(( $(date +%s) + {SECONDS} )); "
    "while [ $(date +%s) -lt $end ]; do "
    "j=0; while [ $j -lt 2000 ]; do echo $i; i=$((i+1)); j=$((j+1)); done; "
    "done; echo END; exec sleep 1000"
)
CHATTY_STACK = f"""\
SERVICE box
  FROM ./img
  CMD sh -c '{CHATTY}'
  TIMEOUT_STOP 1s

SERVICE host
  RUN sh -c '{CHATTY}'
  TIMEOUT_STOP 1s
"""


@dataclass
class Sizes:
    """The largest sizes seen of one log's files while it was written."""

    live: int = 0
    rotated: int = 0
    files: int = 0
    total: int = 0
    samples: int = 0


@dataclass
class Watcher:
    logs: dict[str, Path]
    sizes: dict[str, Sizes] = field(default_factory=dict)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self.stop.is_set():
            for name, log in self.logs.items():
                seen = self.sizes.setdefault(name, Sizes())
                try:
                    live = log.stat().st_size
                except FileNotFoundError:
                    continue
                rotated = [layout.rotated_path(log, i) for i in layout.rotated_indexes(log)]
                rotated_sizes = [p.stat().st_size for p in rotated if p.exists()]
                seen.live = max(seen.live, live)
                seen.rotated = max([seen.rotated, *rotated_sizes])
                seen.files = max(seen.files, 1 + len(rotated_sizes))
                seen.total = max(seen.total, live + sum(rotated_sizes))
                seen.samples += 1
            time.sleep(0.01)


def follower(run: RunProcess, service: str, out: Path) -> subprocess.Popen[bytes]:
    with out.open("wb") as sink:
        return subprocess.Popen(
            run.command("logs", service, "-f"), env=run.env, stdout=sink, stderr=subprocess.PIPE
        )


def numbers(out: Path) -> list[int]:
    lines = out.read_text().splitlines()
    assert lines[-1] == "END", lines[-3:]
    return [int(line) for line in lines[:-1]]


def test_chatty_services_stay_within_their_limits_and_logs_f_misses_no_line(
    run: RunProcess,
) -> None:
    run.env["RECONCILER_LOG_MAX_SIZE"] = str(MAX_SIZE)
    run.env["RECONCILER_LOG_MAX_FILES"] = str(MAX_FILES)
    run.orchfile.write_text(CHATTY_STACK)
    logs = run.state / "projects" / run.namespace / run.project / "logs"
    watcher = Watcher(logs={"box": logs / "box.log", "host": logs / "host.log"})
    sampling = threading.Thread(target=watcher.run)
    outputs = {name: run.directory.parent / f"{name}.out" for name in ("box", "host")}
    # Followers started before the services: from the first line on.
    followers = {name: follower(run, name, out) for name, out in outputs.items()}
    run.start()
    sampling.start()
    try:
        for name, out in outputs.items():
            eventually(
                lambda out=out: out.read_bytes().endswith(b"END\n"),
                timeout=SECONDS + 60,
                interval=0.5,
                what=f"{name}'s END through logs -f",
            )
    finally:
        watcher.stop.set()
        sampling.join()
        for process in followers.values():
            process.send_signal(signal.SIGINT)
        errors = {name: p.communicate(timeout=30)[1].decode() for name, p in followers.items()}

    for name, out in outputs.items():
        written = numbers(out)
        # No line missed, none twice, in order: every number from 0 to the last.
        assert written == list(range(len(written))), name
        assert errors[name] == "", errors[name]  # no gap: the follower kept up
        sizes = watcher.sizes[name]
        rate = out.stat().st_size / SECONDS  # the flood's average, bytes a second
        print(f"{name}: {len(written)} lines, {rate / 1e6:.2f} MB/s, largest {sizes}")
        assert sizes.samples > 100
        assert out.stat().st_size > MAX_SIZE * MAX_FILES * 3  # many rotations' worth
        # A rotated file never exceeds the limit, and there are never more files than the
        # limit. The live file exceeds it by what the service writes until the keeper's
        # next round: at most a PERIOD (0.5 s, far less while a log grows fast), and one
        # more for a round that comes late on a busy machine (these tests share 2 cores).
        late = rate * 2 * PERIOD
        assert sizes.rotated <= MAX_SIZE
        assert sizes.files <= MAX_FILES
        assert sizes.live <= MAX_SIZE + late, (sizes.live, rate)
        assert sizes.total <= MAX_SIZE * MAX_FILES + late, (sizes.total, rate)


VOLUME_STACK = """\
SERVICE box
  FROM ./img
  CMD sh -c 'echo hello from box; echo oops >&2; exec sleep 1000'
  VOLUME data:/data
  TIMEOUT_STOP 1s

SERVICE host
  RUN sh -c 'echo hello from host; echo oops >&2; exec sleep 1000'
  TIMEOUT_STOP 1s
"""


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_logs_are_private_and_go_with_down_which_keeps_volumes_unless_asked(
    run: RunProcess,
) -> None:
    run.orchfile.write_text(VOLUME_STACK)
    run.start()
    run.wait_running("box")
    state = run.state / "projects" / run.namespace / run.project
    logs = state / "logs"
    eventually(
        lambda: run.cli("logs").stdout.count("hello from") == 2, timeout=20, what="both logs"
    )
    merged = run.cli("logs", "--timestamps").stdout.splitlines()
    assert {line.split(" ", 1)[1] for line in merged} >= {
        "box  | hello from box",
        "host | hello from host",
    }
    eventually(lambda: layout.marks_path(logs / "box.log").exists(), what="the first mark")

    files = [
        logs / "box.log",
        logs / "host.log",
        logs / "host.err",
        layout.marks_path(logs / "box.log"),
    ]
    assert {path.name: oct(mode(path)) for path in files} == {
        path.name: oct(0o600) for path in files
    }
    assert oct(mode(logs)) == oct(0o700)

    # A service removed from the Orchfile takes its logs with it; the others' stay.
    run.orchfile.write_text(VOLUME_STACK.split("\nSERVICE host", maxsplit=1)[0] + "\n")
    eventually(lambda: not any(logs.glob("host.*")), timeout=30, what="host's logs gone with it")
    assert (logs / "box.log").exists()
    assert (state / "volumes" / "data").is_dir()
    (state / "volumes" / "data" / "kept").write_text("rows\n")

    done = run.cli("down", "--timeout", "2s")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "kept volumes: data (`down --volumes` removes them)" in done.stderr
    assert run.process is not None
    run.process.wait(timeout=30)
    assert not logs.exists()
    assert (state / "volumes" / "data" / "kept").read_text() == "rows\n"
    check = run.cli("leak-check", "--settle", "10s")
    assert check.returncode == 0, check.stdout + check.stderr
    assert f"volumes: kept: {state / 'volumes' / 'data'}" in check.stdout
    assert "1 kept on purpose" in check.stdout
    assert run.cli("leak-check", "--strict").returncode == 1

    gone = run.cli("down", "--volumes")
    assert gone.returncode == 0, gone.stdout + gone.stderr
    assert not (state / "volumes").exists()
    check = run.cli("leak-check", "--strict")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "kept" not in check.stdout
