"""`run --metrics-address` and `RECONCILER_METRICS_ADDRESS` are read before anything
runs: a bad value is one line naming where it came from, and nothing is started."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.cli import main


@pytest.fixture
def orchfile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RECONCILER_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("RECONCILER_METRICS_ADDRESS", raising=False)
    path = tmp_path / "app" / "Orchfile"
    path.parent.mkdir()
    path.write_text("SERVICE clock\n  RUN sleep 1000\n")
    return path


def test_a_bad_metrics_flag_is_one_line_and_starts_nothing(
    orchfile: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["run", "-f", str(orchfile), "--metrics-address", "9100:metrics"])

    out, err = capsys.readouterr()
    assert (code, out) == (1, "")
    assert err == (
        "error: --metrics-address '9100:metrics': the port must be a number from 0 to 65535 "
        "(expected HOST:PORT, [IPv6]:PORT or PORT)\n"
    )
    assert not (orchfile.parent.parent / "state").exists()


def test_a_bad_metrics_variable_is_named_as_the_variable(
    orchfile: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RECONCILER_METRICS_ADDRESS", "::1:9100")

    code = main(["run", "-f", str(orchfile)])

    assert code == 1
    assert capsys.readouterr().err == (
        "error: RECONCILER_METRICS_ADDRESS '::1:9100': write an IPv6 address in brackets: "
        "[::1]:9100\n"
    )
