"""ENV values are secrets: planted in the Orchfile and an ENV_FILE, searched for in every
output the reconciler makes. The container's spec may hold them (that is where they go);
labels, logs of other services, reports, errors and the state dir must not. Host unit
records carry ENV for the supervisor, so they must be readable by root alone (0600)."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
from pathlib import Path

import pytest

from reconciler.app.loading import ProjectOptions, load_desired
from reconciler.settings import resolve_settings
from tests.e2e.reliability.conftest import PROJECT, Stack

pytestmark = pytest.mark.slow

INLINE = "s3cr3t-inline-7f3a9c"
FROM_FILE = "s3cr3t-envfile-41be02"
SECRETS = (INLINE, FROM_FILE)

STACK = f"""\
SERVICE vault
  FROM ./img
  CMD sh -c 'trap "exit 0" TERM; sleep 1000 & wait'
  ENV DB_PASSWORD={INLINE}
  ENV_FILE ./secret.env
  TIMEOUT_STOP 5s

SERVICE chatty
  FROM ./img
  CMD sh -c 'echo hello; trap "exit 0" TERM; sleep 1000 & wait'
  TIMEOUT_STOP 5s

SERVICE host
  RUN sh -c 'trap "exit 0" TERM; sleep 1000 & wait'
  ENV DB_PASSWORD={INLINE}
  ENV_FILE ./secret.env
  TIMEOUT_STOP 5s

SERVICE broken
  FROM ./img
  CMD /no/such/binary
  ENV DB_PASSWORD={INLINE}
  ENV_FILE ./secret.env
  RESTART no
"""


def assert_clean(text: str, where: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret} appears in {where}:\n{text}"


def test_env_secrets_never_appear_in_outputs_labels_logs_or_the_state_dir(
    stack: Stack, tmp_path: Path
) -> None:
    (stack.directory / "secret.env").write_text(f"API_TOKEN={FROM_FILE}\n")
    stack.write(STACK)
    outputs: list[tuple[str, str]] = []

    def cli(*args: str) -> None:
        done = stack.cli(*args)
        outputs.append((" ".join(args), done.out + done.err))

    cli("plan")
    cli("apply", "--wait", "--timeout", "10s")  # `broken` fails: its error is checked too
    cli("apply", "--timeout", "5s")
    cli("plan")
    for output in ("table", "wide", "json", "yaml"):
        cli("status", "-o", output)
    for service in ("chatty", "broken"):
        cli("logs", service)
    cli("validate")
    ran = subprocess.run(
        [*stack.command("apply", "--debug"), "--timeout", "10s"],
        env={**os.environ, **stack.env},
        capture_output=True,
        text=True,
        check=False,
    )
    outputs.append(("apply --debug (subprocess)", ran.stdout + ran.stderr))
    desired = load_desired(
        ProjectOptions(
            files=[str(stack.orchfile)],
            cli_args={},
            project=PROJECT,
            settings=resolve_settings(
                namespace=None, state_dir=None, address=None, environ=os.environ
            ),
        )
    )
    outputs.append(("repr of the desired state", repr(desired)))

    info = stack.containerd.ctr("containers", "info", "app-vault")
    assert INLINE in info  # the spec carries it to the process: that is its job
    labels = info.split('"Labels":', 1)[1].split("}", 1)[0]
    outputs.append(("containerd labels of app-vault", labels))

    records = [p for p in stack.state.rglob("*") if p.is_file() and "host" in p.parts]
    assert records, "no host unit record found"
    for record in records:
        if any(secret in record.read_text(errors="replace") for secret in SECRETS):
            assert stat.S_IMODE(record.stat().st_mode) == 0o600, record
    for path in stack.state.rglob("*"):
        if path.is_file() and path not in records and path.name not in ("vault.log", "host.log"):
            outputs.append((str(path), path.read_text(errors="replace")))

    cli("down")
    for output in ("text", "json", "junit"):
        cli("leak-check", "-o", output)

    for where, text in outputs:
        assert_clean(text, where)


def test_a_value_in_a_broken_line_is_never_echoed_and_digests_need_the_hosts_key(
    stack: Stack,
) -> None:
    """A malformed ENV line and a malformed ENV_FILE line are reported by position, not
    content; the label that names what changed holds HMACs keyed with the host's key, so
    knowing the scheme is not enough to test guesses of a short value against it."""
    (stack.directory / "bad.env").write_text(f"OK=1\nTOKEN {FROM_FILE}\n")
    stack.write(f"SERVICE a\n  FROM ./img\n  CMD sleep 1\n  ENV PASSWORD {INLINE}\n")
    bad_line = stack.cli("validate")
    stack.write("SERVICE a\n  FROM ./img\n  CMD sleep 1\n  ENV_FILE ./bad.env\n")
    bad_file = stack.cli("validate")

    assert bad_line.code == 1
    assert "invalid ENV format 'PASSWORD ...'" in bad_line.err
    assert bad_file.code == 1
    assert "bad.env:2" in bad_file.err
    assert_clean(bad_line.out + bad_line.err, "validate of a malformed ENV line")
    assert_clean(bad_file.out + bad_file.err, "validate of a malformed ENV_FILE line")

    stack.write(
        f"SERVICE a\n  FROM ./img\n  CMD sh -c 'sleep 1000'\n  ENV PIN={INLINE}\n"
        "  TIMEOUT_STOP 1s\n"
    )
    assert stack.cli("apply", "--wait", "--timeout", "30s").code == 0
    info = json.loads(stack.containerd.ctr("containers", "info", "app-a"))
    parts = dict(p.rsplit("=", 1) for p in info["Labels"]["orch.config-parts"].split(","))
    unkeyed = hashlib.sha256(json.dumps(INLINE).encode()).hexdigest()[: len(parts["env.PIN"])]
    assert parts["env.PIN"] != unkeyed
    key = stack.state / "fingerprint.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
