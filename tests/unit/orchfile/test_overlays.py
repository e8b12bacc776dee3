"""Several files merged left to right (docs/orchfile.md, "Several files: overlays"): scalars,
keyed lists, appending lists, new services, mode switches, CLEAR, and errors naming the
overlay."""

from __future__ import annotations

import pytest

WEB = "SERVICE web\nFROM nginx:1\n"
JOB = "SERVICE job\nRUN ./job\n"


# --- scalars --------------------------------------------------------------------------


def test_an_overlays_scalar_wins(service):
    web = service(WEB + "WORKDIR /a\nRESTART no\n", "SERVICE web\nWORKDIR /b\nRESTART always\n")
    assert (web["workdir"], web["restart"]["policy"]) == ("/b", "always")


def test_a_scalar_the_overlay_omits_keeps_the_bases_value(service):
    web = service(WEB + "WORKDIR /a\nCPUS 2\n", "SERVICE web\nWORKDIR /b\n")
    assert web["resources"] == {"cpus": 2.0}


def test_an_overlays_from_replaces_the_image(service):
    assert service(WEB, "SERVICE web\nFROM nginx:2\n")["image"] == "nginx:2"


def test_an_overlays_run_replaces_the_command(service):
    assert service(JOB, "SERVICE job\nRUN ./job --fast\n")["run_command"] == "./job --fast"


def test_an_overlay_block_with_no_directives_changes_nothing(tree):
    assert tree(WEB + "ENV A=1\n", "SERVICE web\n") == tree(WEB + "ENV A=1\n")


# --- keyed lists ----------------------------------------------------------------------


def test_env_merges_by_key(service):
    web = service(WEB + "ENV A=1\nENV B=1\n", "SERVICE web\nENV B=2\nENV C=2\n")
    assert web["env"] == {"A": "1", "B": "2", "C": "2"}


def test_publish_merges_by_container_port(service):
    web = service(
        WEB + "PUBLISH 8080:80\nPUBLISH 8443:443\n",
        "SERVICE web\nPUBLISH 127.0.0.1:9090:80\nPUBLISH 2222:22\n",
    )
    assert web["publish"] == [
        {"address": "127.0.0.1", "host": 9090, "container": 80},
        {"host": 8443, "container": 443},
        {"host": 2222, "container": 22},
    ]


def test_volume_merges_by_destination(service):
    web = service(
        WEB + "VOLUME data:/data\nVOLUME logs:/logs\n",
        "SERVICE web\nVOLUME /srv/data:/data\nVOLUME cache:/cache\n",
    )
    assert web["volumes"] == [
        {"source": "/srv/data", "destination": "/data", "is_named": False},
        {"source": "logs", "destination": "/logs", "is_named": True},
        {"source": "cache", "destination": "/cache", "is_named": True},
    ]


def test_keyed_merge_compares_the_text_before_expansion(service):
    web = service(
        "ARG port=80\n" + WEB + "PUBLISH 8080:${port}\n", "SERVICE web\nPUBLISH 9090:80\n"
    )
    assert web["publish"] == [{"host": 8080, "container": 80}, {"host": 9090, "container": 80}]


# --- appending lists ------------------------------------------------------------------


@pytest.mark.parametrize(("directive", "field"), [("REQUIRES", "requires"), ("AFTER", "after")])
def test_dependency_lists_append_dropping_duplicates(tree, directive, field):
    deps = "".join(f"SERVICE {n}\nRUN x\n" for n in "abc")
    stack = tree(deps + WEB + f"{directive} a b\n", f"SERVICE web\n{directive} b c a\n")
    assert stack["services"][3][field] == ["a", "b", "c"]


def test_env_files_append_dropping_duplicates(service):
    web = service(WEB + "ENV_FILE a.env\n", "SERVICE web\nENV_FILE b.env\nENV_FILE a.env\n")
    assert web["env_files"] == ["a.env", "b.env"]


# --- services -------------------------------------------------------------------------


def test_new_services_are_appended_in_order(tree):
    stack = tree(WEB + JOB, "SERVICE zeta\nRUN z\nSERVICE job\nWORKDIR /\nSERVICE alpha\nRUN a\n")
    assert [s["name"] for s in stack["services"]] == ["web", "job", "zeta", "alpha"]


def test_three_files_merge_left_to_right(service):
    web = service(WEB + "WORKDIR /1\n", "SERVICE web\nWORKDIR /2\n", "SERVICE web\nWORKDIR /3\n")
    assert web["workdir"] == "/3"


def test_an_overlay_may_require_a_service_of_the_base(tree):
    stack = tree(WEB, "SERVICE proxy\nFROM haproxy\nREQUIRES web\n")
    assert stack["services"][1]["requires"] == ["web"]


# --- mode switches --------------------------------------------------------------------


def test_from_on_a_host_service_switches_it_to_a_container(service):
    base = JOB + "USER app\nSTOP kill 1\nRELOAD kill -HUP 1\nWORKDIR /srv\nENV A=1\n"
    job = service(base, "SERVICE job\nFROM jobimg\n")
    assert job == {
        "name": "job",
        "mode": "container",
        "image": "jobimg",
        "workdir": "/srv",
        "env": {"A": "1"},
        "oneshot": False,
        "disabled": False,
        "recreate": "never",
        "restart": {"policy": "no"},
        "timeouts": {},
        "resources": {},
        "logging": {},
    }


def test_run_on_a_container_service_switches_it_to_the_host(service):
    base = WEB + "ENTRYPOINT /init\nCMD serve\nPUBLISH 80:80\nVOLUME d:/d\nWORKDIR /srv\n"
    web = service(base, "SERVICE web\nRUN ./serve\n")
    assert web == {
        "name": "web",
        "mode": "host",
        "run_command": "./serve",
        "workdir": "/srv",
        "oneshot": False,
        "disabled": False,
        "recreate": "never",
        "restart": {"policy": "no"},
        "timeouts": {},
        "resources": {},
        "logging": {},
    }


def test_a_switch_to_a_container_forgets_the_host_directives_for_c3(service):
    assert service(JOB + "USER app\n", "SERVICE job\nFROM img\n")["mode"] == "container"


def test_a_switch_to_the_host_forgets_the_container_directives_for_c2(service):
    assert service(WEB + "PUBLISH 80:80\n", "SERVICE web\nRUN ./serve\n")["mode"] == "host"


def test_a_host_directive_in_the_switching_overlay_is_still_c3(errors):
    assert errors(JOB, "SERVICE job\nFROM img\nUSER app\n") == [
        "overlay1:3: service 'job': USER is only valid with RUN (host mode), "
        "found at overlay1:3 (C3)"
    ]


def test_a_container_directive_in_the_switching_overlay_is_still_c2(errors):
    assert errors(WEB, "SERVICE web\nRUN ./serve\nCMD x\n") == [
        "overlay1:3: service 'web': CMD is only valid with FROM (container mode), "
        "found at overlay1:3 (C2)"
    ]


def test_a_switch_and_a_switch_back_give_the_last_mode(service):
    web = service(WEB, "SERVICE web\nRUN ./serve\n", "SERVICE web\nFROM nginx:3\n")
    assert (web["mode"], web["image"], "run_command" in web) == ("container", "nginx:3", False)


def test_c1_is_checked_on_the_merged_result(service):
    assert service("SERVICE web\nWORKDIR /srv\n", "SERVICE web\nFROM nginx\n")["mode"] == (
        "container"
    )


def test_a_host_directive_an_overlay_adds_to_a_container_is_c3_in_that_file(errors):
    assert errors(WEB, "\nSERVICE web\nSTOP kill 1\n") == [
        "overlay1:3: service 'web': STOP is only valid with RUN (host mode), "
        "found at overlay1:3 (C3)"
    ]


# --- CLEAR ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("directive", "base_line", "field"),
    [
        ("ENV", "ENV A=1", "env"),
        ("ENV_FILE", "ENV_FILE a.env", "env_files"),
        ("PUBLISH", "PUBLISH 80:80", "publish"),
        ("VOLUME", "VOLUME d:/d", "volumes"),
        ("REQUIRES", "REQUIRES job", "requires"),
        ("AFTER", "AFTER job", "after"),
    ],
)
def test_clear_in_an_overlay_empties_the_bases_list(tree, directive, base_line, field):
    stack = tree(JOB + WEB + base_line + "\n", f"SERVICE web\nCLEAR {directive}\n")
    assert field not in stack["services"][1]


def test_clear_in_an_overlay_keeps_the_blocks_own_entries(service):
    web = service(WEB + "ENV A=1\nENV B=1\n", "SERVICE web\nCLEAR ENV\nENV C=2\n")
    assert web["env"] == {"C": "2"}


def test_clear_replaces_an_appending_list_with_the_blocks_entries(service):
    web = service(WEB + "ENV_FILE a.env\n", "SERVICE web\nCLEAR ENV_FILE\nENV_FILE b.env\n")
    assert web["env_files"] == ["b.env"]


def test_clear_empties_only_its_target(service):
    web = service(WEB + "ENV A=1\nENV_FILE a.env\n", "SERVICE web\nCLEAR ENV\n")
    assert (web.get("env"), web["env_files"]) == (None, ["a.env"])


def test_clear_within_one_block_empties_what_came_before_it(service):
    web = service(WEB + "PUBLISH 80:80\nCLEAR PUBLISH\nPUBLISH 81:81\n")
    assert web["publish"] == [{"host": 81, "container": 81}]


def test_clear_of_env_within_one_block_forgets_earlier_keys(service):
    assert service(WEB + "ENV A=1\nCLEAR ENV\nENV B=2\n")["env"] == {"B": "2"}


def test_a_later_overlay_extends_a_list_an_earlier_overlay_cleared(service):
    web = service(WEB + "ENV A=1\n", "SERVICE web\nCLEAR ENV\nENV B=2\n", "SERVICE web\nENV C=3\n")
    assert web["env"] == {"B": "2", "C": "3"}


def test_clear_of_a_scalar_in_an_overlay_is_an_error_in_that_file(errors):
    assert errors(WEB, "SERVICE web\nCLEAR WORKDIR\n") == [
        "overlay1:2: CLEAR cannot target scalar directive 'WORKDIR' (scalars override by last-wins)"
    ]


# --- errors name their file -----------------------------------------------------------


def test_a_syntax_error_in_an_overlay_names_the_overlay(errors):
    assert errors(WEB, "SERVICE web\nFROM a\nFROM b\n") == ["overlay1:3: duplicate FROM directive"]


def test_a_value_error_from_an_overlay_names_the_overlay(errors):
    assert errors(WEB + "ONESHOT true\n", "\n\nSERVICE web\nONESHOT often\n") == [
        "overlay1:4: service 'web': ONESHOT expects 'true' or 'false', got 'often'"
    ]


def test_a_value_the_overlay_overrode_is_not_checked(service):
    assert service(WEB + "ONESHOT often\n", "SERVICE web\nONESHOT true\n")["oneshot"] is True


def test_a_bad_port_from_an_overlay_names_the_overlay(errors):
    assert errors(WEB + "PUBLISH 80:80\n", "SERVICE web\nPUBLISH 70000:80\n") == [
        "overlay1:2: service 'web': invalid host port '70000' in PUBLISH"
    ]


def test_a_missing_requires_target_from_an_overlay_names_the_overlay(errors):
    assert errors(WEB, "SERVICE web\nREQUIRES ghost\n") == [
        "overlay1:2: service 'web': REQUIRES references unknown service 'ghost'"
    ]


def test_a_service_name_may_repeat_across_files(tree):
    assert len(tree(WEB, WEB)["services"]) == 1
