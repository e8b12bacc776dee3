"""Ten thousand generated and mutated Orchfiles through `validate` and `render`.

A seeded generator writes plausible Orchfiles (every directive, good and bad values),
then mutates some (dropped, duplicated, truncated and swapped lines, stray bytes). Each
goes through `reconciler.cli.main` in this process: the exit code must be 0 or 1, and
stderr only clean one-line errors (`FILE:LINE: message` or `error: ...`), never a
traceback or an "internal error". Seeded, so a failure replays; no containerd needed.
"""

from __future__ import annotations

import contextlib
import io
import random
from pathlib import Path

from reconciler.cli import main

FILES = 10_000
SEED = 20261129
BATCH = 100

NAMES = ["web", "db", "w-1", "a_b", "x" * 70, "", "9lives", "web--x", "-", "ÿ", "${name}"]
VALUES = {
    "FROM": ["./img", "/abs/layout", "busybox:1", "localhost:5000/x:1", "", "${image}", "../"],
    "CMD": ["sleep 1", "sh -c 'echo \"hi\"'", "'unclosed", '["a", "b"]', '["a",', ""],
    "RUN": ["sleep 1", "sh -c 'x'", ""],
    "ENV": ["A=1", "DB_PASSWORD=s3cr3t", "=x", "A", "A=${missing}", "A B=2"],
    "ENV_FILE": ["./env", "/nonexistent", ""],
    "VOLUME": ["site:/www", "./d:/d", "../../etc:/x", "/abs:/x:ro", "bad", ":/x", "a:b:c:d"],
    "PUBLISH": ["8080", "8080:80", "127.0.0.1:80:80", "99999", "x", "80/udp"],
    "HEALTHCHECK": ["http://127.0.0.1:1/", "true", ""],
    "RESTART": ["no", "on-failure", "always", "sometimes", ""],
    "RESTART_DELAY": ["1s", "500ms", "-1s", "forever", "1"],
    "START_LIMIT_BURST": ["3", "0", "-2", "many"],
    "START_LIMIT_INTERVAL": ["30s", "0s", "x"],
    "TIMEOUT_STOP": ["1s", "10", "1h", "soon"],
    "MEMORY": ["64M", "1G", "lots", "0", "-5M"],
    "CPUS": ["0.5", "2", "0", "-1", "half"],
    "REQUIRES": ["web", "db web", "nowhere", "self"],
    "AFTER": ["web", "ghost"],
    "ONESHOT": ["true", "false", "maybe"],
    "USER": ["1000", "root", "1000:1000", ""],
    "WORKDIR": ["/app", "relative", ""],
    "READINESS_TIMEOUT": ["30s", "x"],
    "STOP": ["SIGINT", "SIGNOPE", "15"],
    "DISABLED": ["true", "false", "x"],
    "UNKNOWN_DIRECTIVE": ["x"],
}
TOP = [
    "ORCH_VERSION 1.0.0-rc",
    "ORCH_VERSION 9",
    "ARG port=8080",
    "ARG image=./img",
    "ARG =x",
    "# a comment",
    "",
    "CLEAR ENV",
    "INCLUDE ./other",
]


def generate(rng: random.Random) -> str:
    lines = [rng.choice(TOP) for _ in range(rng.randint(0, 3))]
    for _ in range(rng.randint(0, 4)):
        lines.append(f"SERVICE {rng.choice(NAMES)}")
        for directive in rng.sample(sorted(VALUES), rng.randint(0, 8)):
            indent = rng.choice(["  ", "  ", "\t", ""])
            lines.append(f"{indent}{directive} {rng.choice(VALUES[directive])}")
    return "\n".join(lines) + rng.choice(["\n", "", "\\\n", "\r\n"])


def mutate(rng: random.Random, text: str) -> str:
    lines = text.splitlines(keepends=True) or [""]
    for _ in range(rng.randint(1, 3)):
        index = rng.randrange(len(lines))
        match rng.randrange(6):
            case 0:
                del lines[index]
                lines = lines or [""]
            case 1:
                lines.insert(index, lines[index])
            case 2:
                lines[index] = lines[index][: rng.randrange(len(lines[index]) + 1)]
            case 3:
                other = rng.randrange(len(lines))
                lines[index], lines[other] = lines[other], lines[index]
            case 4:
                cut = rng.randrange(len(lines[index]) + 1)
                junk = rng.choice(["\x00", "${", "'", '"', "\\", "\ufeff", "#", "=", "\udcff"])
                lines[index] = lines[index][:cut] + junk + lines[index][cut:]
            case _:
                lines[index] = "".join(rng.sample(lines[index], len(lines[index])))
    return "".join(lines)


def run(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, err.getvalue()


def test_ten_thousand_generated_and_mutated_orchfiles_give_only_clean_errors(
    tmp_path: Path,
) -> None:
    rng = random.Random(SEED)
    (tmp_path / "env").write_text("DB_PASSWORD=s3cr3t-from-file\n")
    (tmp_path / "other").write_text("ARG x=1\n")
    outcomes = {0: 0, 1: 0}
    for number in range(FILES):
        text = generate(rng)
        if rng.random() < 0.6:
            text = mutate(rng, text)
        path = tmp_path / f"f{number % BATCH}.orch"
        path.write_bytes(text.encode("utf-8", "surrogateescape"))
        for command in ("validate", "render"):
            code, err = run([command, str(path)])
            where = f"{command} of file {number} (seed {SEED}):\n{text}\n--- stderr:\n{err}"
            assert code in (0, 1), where
            assert "Traceback" not in err, where
            assert "internal error" not in err, where
            for line in err.splitlines():
                assert line.startswith((str(path), "error: ")), where
            outcomes[code] += 1
    # The generator must exercise both outcomes, or it tests nothing.
    assert outcomes[0] > FILES // 50
    assert outcomes[1] > FILES // 2
