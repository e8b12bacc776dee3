"""Settings: a flag wins over the environment, which wins over the default."""

from __future__ import annotations

import pytest

from reconciler.errors import UsageError
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
