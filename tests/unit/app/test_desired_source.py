"""What `run` applies from a save: a good save, not a broken one (said once), not one
that would remove every running service (held until confirmed), not a half-read one."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from reconciler.app.desired_source import DesiredSource, removes_everything
from reconciler.app.journal import Journal
from reconciler.app.loading import SourceIdentity
from reconciler.clock import VirtualClock
from reconciler.errors import ControlError, Diagnostic, InvalidOrchfile
from reconciler.model.desired import DesiredStack
from reconciler.model.log_limits import LogLimits
from reconciler.model.network_mode import NetworkMode
from reconciler.model.observed import Observed
from tests.support.desired import PROJECT, service, stack
from tests.support.planning import unit

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def observed(*names: str) -> Observed:
    return Observed(
        namespace="orch",
        project=PROJECT,
        observed_at=NOW,
        units=tuple(unit(service(name)) for name in names),
    )


def test_a_save_keeping_one_running_service_removes_nothing_everything() -> None:
    assert removes_everything(stack(service("web")), observed("web", "db")) == []


def test_an_empty_save_of_a_running_project_would_remove_every_service() -> None:
    assert removes_everything(stack(), observed("web", "db")) == ["db", "web"]


def test_disabling_every_running_service_is_removing_them() -> None:
    desired = stack(service("web", disabled=True))
    assert removes_everything(desired, observed("web")) == ["web"]


def test_nothing_running_means_nothing_to_protect() -> None:
    assert removes_everything(stack(), observed()) == []


class Source:
    def __init__(self, tmp_path: Path) -> None:
        self.path = tmp_path / "Orchfile"
        self.path.write_text("v1")
        self.desired: DesiredStack = replace(stack(service("web")), files=(self.path,))
        self.error: InvalidOrchfile | None = None
        self.journal = Journal()
        self.source = DesiredSource(
            load=self.load,
            identity=SourceIdentity(files=(str(self.path),), args={}),
            initial=self.desired,
            clock=VirtualClock(),
            journal=self.journal,
        )

    def load(self) -> DesiredStack:
        if self.error is not None:
            raise self.error
        return self.desired


def test_a_held_save_is_confirmed_by_apply_with_the_same_files(tmp_path: Path) -> None:
    files = Source(tmp_path)
    files.desired = replace(files.desired, services=())
    files.path.write_text("")

    assert files.source.reload(observed=observed("web")) is False
    assert files.source.rejected is not None
    assert files.source.rejected.held
    assert files.source.current.services != ()

    assert files.source.confirm(SourceIdentity(files=(str(files.path),), args={})) is True
    assert files.source.current.services == ()
    assert files.source.rejected is None


def test_confirming_with_other_files_or_args_is_refused(tmp_path: Path) -> None:
    files = Source(tmp_path)
    with pytest.raises(ControlError, match="watches"):
        files.source.confirm(SourceIdentity(files=(str(files.path),), args={"x": "1"}))


def test_confirming_with_another_network_mode_is_refused_naming_both(tmp_path: Path) -> None:
    files = Source(tmp_path)
    other = SourceIdentity(files=(str(files.path),), args={}, network=NetworkMode.HOST)
    with pytest.raises(ControlError, match="--network bridge; apply was given --network host"):
        files.source.confirm(other)


def test_apply_through_run_may_not_change_its_log_limits_but_need_not_state_them(
    tmp_path: Path,
) -> None:
    files = Source(tmp_path)  # `run` stated none: the defaults, 10M x 3
    unstated = SourceIdentity(files=(str(files.path),), args={})
    same = replace(unstated, log_limits=LogLimits(max_size=10 << 20, max_files=3))
    other = replace(unstated, log_limits=LogLimits(max_size=1 << 20, max_files=3))

    assert files.source.confirm(unstated) is False  # nothing changed, nothing refused
    assert files.source.confirm(same) is False
    with pytest.raises(
        ControlError, match="keeps logs at 10M x 3 per stream; apply was given 1M x 3"
    ):
        files.source.confirm(other)


def test_a_broken_save_is_rejected_and_the_last_good_state_kept(tmp_path: Path) -> None:
    files = Source(tmp_path)
    good = files.source.current
    files.error = InvalidOrchfile([Diagnostic(location=None, message="Orchfile:1: bad")])
    files.path.write_text("bad")

    assert files.source.reload(observed=observed("web")) is False
    assert files.source.current == good
    assert files.source.rejected is not None
    assert files.source.rejected.error == "Orchfile:1: bad"
    assert not files.source.rejected.held
