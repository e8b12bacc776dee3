"""WWW-Authenticate challenges and docker config.json logins are read like docker does."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from reconciler.drivers.containerd.images.auth import (
    Challenge,
    credentials_from_config,
    docker_config_path,
    load_docker_credentials,
    parse_challenges,
)
from reconciler.errors import ImageError

CONFIG = Path("/nowhere/config.json")


def encoded(login: str) -> str:
    return base64.b64encode(login.encode()).decode()


def test_a_bearer_challenge_gives_realm_service_and_scope() -> None:
    header = (
        'Bearer realm="http://127.0.0.1:5006/token",service="poc-registry",'
        'scope="repository:bbsalt:pull"'
    )

    assert parse_challenges(header) == (
        Challenge(
            scheme="bearer",
            parameters={
                "realm": "http://127.0.0.1:5006/token",
                "service": "poc-registry",
                "scope": "repository:bbsalt:pull",
            },
        ),
    )


def test_scopes_with_commas_and_escaped_quotes_stay_whole() -> None:
    header = r'Bearer realm="https://auth.example/t",scope="repository:a:pull,push",x="say \"hi\""'

    (challenge,) = parse_challenges(header)

    assert challenge.parameters["scope"] == "repository:a:pull,push"
    assert challenge.parameters["x"] == 'say "hi"'


def test_several_challenges_in_one_header_are_all_returned() -> None:
    challenges = parse_challenges('Basic realm="Registry Realm", Bearer realm="https://a/t"')

    assert [c.scheme for c in challenges] == ["basic", "bearer"]
    assert challenges[0].realm == "Registry Realm"
    assert challenges[1].realm == "https://a/t"


def test_unquoted_values_and_scheme_case_are_accepted() -> None:
    (challenge,) = parse_challenges("BEARER realm=https://a/t, service=reg")

    assert challenge == Challenge(
        scheme="bearer", parameters={"realm": "https://a/t", "service": "reg"}
    )


@pytest.mark.parametrize("header", ["", "   ", 'Bearer realm="unterminated'])
def test_unusable_headers_give_no_usable_challenge_instead_of_raising(header: str) -> None:
    assert all(not c.realm for c in parse_challenges(header))


def test_a_config_auth_entry_is_base64_user_and_password() -> None:
    document = {"auths": {"127.0.0.1:5000": {"auth": encoded("alice:won:derland")}}}

    found = credentials_from_config(document, "127.0.0.1:5000", CONFIG)

    assert found is not None
    assert found.username == "alice"
    assert found.password.reveal() == "won:derland"
    assert "won" not in repr(found)


def test_config_keys_with_scheme_and_path_match_the_bare_host() -> None:
    document = {"auths": {"https://registry.example:443/v2/": {"auth": encoded("u:p")}}}

    assert credentials_from_config(document, "registry.example:443", CONFIG) is not None
    assert credentials_from_config(document, "other.example", CONFIG) is None


def test_docker_hub_logins_are_found_under_the_index_v1_key() -> None:
    document = {"auths": {"https://index.docker.io/v1/": {"auth": encoded("u:p")}}}

    found = credentials_from_config(document, "docker.io", CONFIG)

    assert found is not None
    assert found.username == "u"


def test_a_broken_auth_value_is_an_error_naming_the_file() -> None:
    document = {"auths": {"h": {"auth": encoded("no-colon")}}}

    with pytest.raises(ImageError, match=r"config\.json"):
        credentials_from_config(document, "h", CONFIG)


def test_docker_config_env_var_picks_the_folder_else_home() -> None:
    assert docker_config_path({"DOCKER_CONFIG": "/cfg"}) == Path("/cfg/config.json")
    assert docker_config_path({"HOME": "/home/u"}) == Path("/home/u/.docker/config.json")


def test_a_missing_config_file_means_no_credentials(tmp_path: Path) -> None:
    assert load_docker_credentials("h", tmp_path / "config.json") is None
