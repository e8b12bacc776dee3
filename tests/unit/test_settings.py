"""Settings: a flag wins over the environment, which wins over the default."""

from __future__ import annotations

import pytest

from reconciler.errors import UsageError
from reconciler.model.log_limits import DEFAULT_LOG_LIMITS, LogLimits
from reconciler.model.network_mode import NetworkMode
from reconciler.settings import resolve_settings


def settings(environ: dict[str, str], network: str | None = None) -> NetworkMode:
    resolved = resolve_settings(
        namespace=None, state_dir="/s", address=None, environ=environ, network=network
    )
    return resolved.network


def test_the_network_is_the_project_bridge_by_default() -> None:
    assert settings({}) is NetworkMode.BRIDGE


def test_the_environment_chooses_the_network_and_the_flag_wins_over_it() -> None:
    assert settings({"RECONCILER_NETWORK": "host"}) is NetworkMode.HOST
    assert settings({"RECONCILER_NETWORK": "host"}, network="bridge") is NetworkMode.BRIDGE


def test_an_unknown_network_mode_names_where_it_came_from() -> None:
    with pytest.raises(UsageError, match="RECONCILER_NETWORK 'none' is not a network mode"):
        settings({"RECONCILER_NETWORK": "none"})


def log_limits(
    environ: dict[str, str], *, size: str | None = None, files: str | None = None
) -> LogLimits | None:
    resolved = resolve_settings(
        namespace=None,
        state_dir="/s",
        address=None,
        environ=environ,
        log_max_size=size,
        log_max_files=files,
    )
    return resolved.stated_log_limits


def test_logs_are_kept_at_ten_megabytes_times_three_unless_stated() -> None:
    assert log_limits({}) is None
    resolved = resolve_settings(namespace=None, state_dir="/s", address=None, environ={})
    assert resolved.log_limits == DEFAULT_LOG_LIMITS == LogLimits(max_size=10 << 20, max_files=3)


def test_a_log_limit_flag_wins_over_the_environment_and_the_other_keeps_its_default() -> None:
    environ = {"RECONCILER_LOG_MAX_SIZE": "1M", "RECONCILER_LOG_MAX_FILES": "5"}
    assert log_limits(environ) == LogLimits(max_size=1 << 20, max_files=5)
    assert log_limits(environ, size="512K") == LogLimits(max_size=512 << 10, max_files=5)
    assert log_limits({}, files="2") == LogLimits(max_size=10 << 20, max_files=2)
    assert log_limits({"RECONCILER_LOG_MAX_SIZE": ""}) is None


@pytest.mark.parametrize(
    ("environ", "size", "files", "message"),
    [
        ({}, "ten", None, "--log-max-size 'ten' is not a size"),
        ({}, "1K", None, "--log-max-size '1K' must be between 64K and 1T"),
        ({"RECONCILER_LOG_MAX_FILES": "0"}, None, None, "RECONCILER_LOG_MAX_FILES '0' must be"),
        ({}, None, "2.5", "--log-max-files '2.5' is not a whole number of files"),
    ],
)
def test_a_bad_log_limit_is_one_line_naming_where_it_came_from(
    environ: dict[str, str], size: str | None, files: str | None, message: str
) -> None:
    with pytest.raises(UsageError, match=message.replace("(", r"\(")):
        log_limits(environ, size=size, files=files)
