"""`leak-check -o text|json|junit` and its exit code, from a LeakReport."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from reconciler.model.leaks import (
    Checked,
    ClassOutcome,
    LeakClass,
    LeakedItem,
    LeakReport,
    LeakVerdict,
    Unchecked,
    ordered_outcomes,
)
from reconciler.report.leak_view import exit_code, leak_tree, render_json, render_junit, render_text


def a_report(*outcomes: ClassOutcome, all_projects: bool = False) -> LeakReport:
    """Every class checked and clean, except the outcomes given."""
    given = {outcome.leak_class: outcome for outcome in outcomes}
    return LeakReport(
        project="demo",
        namespace="orch",
        all_projects=all_projects,
        outcomes=tuple(given.get(c, Checked(leak_class=c)) for c in LeakClass),
    )


CLEAN = a_report()
LEAKY = a_report(
    Checked(
        leak_class=LeakClass.TASKS,
        leaked=(
            LeakedItem(id="demo-web", detail="running, pid 4242"),
            LeakedItem(id="demo-db", detail="stopped"),
        ),
    ),
    Checked(leak_class=LeakClass.LEASES, leaked=(LeakedItem(id="reconciler-apply-1"),)),
    Unchecked(leak_class=LeakClass.CGROUPS, reason="cgroup v1 is not supported"),
)
UNCHECKED = a_report(
    Unchecked(leak_class=LeakClass.SHIMS, reason="/proc is not readable"),
    Unchecked(leak_class=LeakClass.MOUNTS, reason="/proc is not readable"),
)


LEAKY_JSON = """\
{
  "project": "demo",
  "namespace": "orch",
  "all_projects": false,
  "result": "leaked",
  "leaked": 3,
  "kept": 0,
  "classes": {
    "tasks": {
      "checked": true,
      "reason": null,
      "leaked": [
        {
          "id": "demo-web",
          "detail": "running, pid 4242"
        },
        {
          "id": "demo-db",
          "detail": "stopped"
        }
      ],
      "kept": []
    },
    "containers": {
      "checked": true,
      "reason": null,
      "leaked": [],
      "kept": []
    },
    "snapshots": {
      "checked": true,
      "reason": null,
      "leaked": [],
      "kept": []
    },
    "leases": {
      "checked": true,
      "reason": null,
      "leaked": [
        {
          "id": "reconciler-apply-1",
          "detail": ""
        }
      ],
      "kept": []
    },
    "shims": {
      "checked": true,
      "reason": null,
      "leaked": [],
      "kept": []
    },
    "mounts": {
      "checked": true,
      "reason": null,
      "leaked": [],
      "kept": []
    },
    "cgroups": {
      "checked": false,
      "reason": "cgroup v1 is not supported",
      "leaked": [],
      "kept": []
    },
    "network-namespaces": {
      "checked": true,
      "reason": null,
      "leaked": [],
      "kept": []
    },
    "veths": {
      "checked": true,
      "reason": null,
      "leaked": [],
      "kept": []
    },
    "ipam-allocations": {
      "checked": true,
      "reason": null,
      "leaked": [],
      "kept": []
    },
    "port-mappings": {
      "checked": true,
      "reason": null,
      "leaked": [],
      "kept": []
    },
    "bridges": {
      "checked": true,
      "reason": null,
      "leaked": [],
      "kept": []
    },
    "host-processes": {
      "checked": true,
      "reason": null,
      "leaked": [],
      "kept": []
    },
    "volumes": {
      "checked": true,
      "reason": null,
      "leaked": [],
      "kept": []
    },
    "log-files": {
      "checked": true,
      "reason": null,
      "leaked": [],
      "kept": []
    }
  }
}
"""


# The model


def test_the_leak_classes_come_in_the_documented_order() -> None:
    assert [c.value for c in LeakClass] == [
        "tasks",
        "containers",
        "snapshots",
        "leases",
        "shims",
        "mounts",
        "cgroups",
        "network-namespaces",
        "veths",
        "ipam-allocations",
        "port-mappings",
        "bridges",
        "host-processes",
        "volumes",
        "log-files",
    ]


def test_a_report_missing_a_class_is_refused() -> None:
    outcomes = tuple(Checked(leak_class=c) for c in LeakClass if c is not LeakClass.MOUNTS)
    with pytest.raises(ValueError, match="every class once"):
        LeakReport(project="demo", namespace="orch", all_projects=False, outcomes=outcomes)


def test_a_report_with_classes_out_of_order_is_refused() -> None:
    outcomes = tuple(reversed([Checked(leak_class=c) for c in LeakClass]))
    with pytest.raises(ValueError, match="in order"):
        LeakReport(project="demo", namespace="orch", all_projects=False, outcomes=outcomes)


def test_outcomes_finished_out_of_order_can_be_put_in_order() -> None:
    outcomes = [Checked(leak_class=c) for c in reversed(LeakClass)]
    assert [o.leak_class for o in ordered_outcomes(outcomes)] == list(LeakClass)


def test_leaks_found_outweigh_classes_not_checked() -> None:
    assert CLEAN.verdict is LeakVerdict.CLEAN
    assert LEAKY.verdict is LeakVerdict.LEAKED
    assert UNCHECKED.verdict is LeakVerdict.UNCHECKED
    assert LEAKY.leaked_count == 3


# Exit codes


def test_no_leaks_exits_0() -> None:
    assert exit_code(CLEAN) == 0


def test_leaks_exit_1_even_when_a_class_could_not_be_checked() -> None:
    assert exit_code(LEAKY) == 1


def test_a_class_not_checked_and_no_leaks_exits_2() -> None:
    assert exit_code(UNCHECKED) == 2


# Text


def test_a_clean_report_is_one_line_saying_no_leaks() -> None:
    assert render_text(CLEAN) == "no leaks (project demo, namespace orch)\n"


def test_text_has_one_line_per_leak_and_per_unchecked_class_then_a_summary() -> None:
    assert render_text(LEAKY) == (
        "tasks: demo-web (running, pid 4242)\n"
        "tasks: demo-db (stopped)\n"
        "leases: reconciler-apply-1\n"
        "cgroups: not checked: cgroup v1 is not supported\n"
        "3 leaks in 2 classes; could not check 1: cgroups (project demo, namespace orch)\n"
    )


def test_text_for_classes_not_checked_does_not_claim_there_are_no_leaks() -> None:
    assert render_text(UNCHECKED).splitlines()[-1] == (
        "no leaks in the classes checked; could not check 2: shims, mounts"
        " (project demo, namespace orch)"
    )


def test_one_leak_is_singular() -> None:
    report = a_report(Checked(leak_class=LeakClass.VOLUMES, leaked=(LeakedItem(id="demo_data"),)))
    assert render_text(report).splitlines()[-1] == (
        "1 leak in 1 class (project demo, namespace orch)"
    )


def test_text_for_all_projects_names_the_namespace_only() -> None:
    assert render_text(a_report(all_projects=True)) == "no leaks (all projects, namespace orch)\n"


def test_a_newline_in_an_item_cannot_forge_a_second_line() -> None:
    item = LeakedItem(id="/var/log/x\nvolumes: fake", detail="tab\there")
    report = a_report(Checked(leak_class=LeakClass.LOG_FILES, leaked=(item,)))
    assert render_text(report).splitlines()[0] == (
        "log-files: /var/log/x\\x0avolumes: fake (tab\\x09here)"
    )


# JSON


def test_json_lists_every_class_with_its_items_or_why_it_was_not_checked() -> None:
    assert render_json(LEAKY) == LEAKY_JSON


def test_json_classes_keep_the_documented_order() -> None:
    assert list(json.loads(render_json(CLEAN))["classes"]) == [c.value for c in LeakClass]


def test_json_result_names_the_verdict() -> None:
    assert leak_tree(CLEAN)["result"] == "clean"
    assert leak_tree(UNCHECKED)["result"] == "unchecked"
    assert leak_tree(a_report(all_projects=True))["all_projects"] is True


# JUnit


def test_junit_is_one_suite_with_a_case_per_class_failed_or_skipped() -> None:
    assert render_junit(LEAKY) == (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<testsuite name="reconciler leak-check" tests="15" failures="2" errors="0"'
        ' skipped="1">\n'
        "  <properties>\n"
        '    <property name="project" value="demo" />\n'
        '    <property name="namespace" value="orch" />\n'
        '    <property name="all_projects" value="false" />\n'
        "  </properties>\n"
        '  <testcase classname="leak-check" name="tasks">\n'
        '    <failure message="2 leaked">demo-web (running, pid 4242)\n'
        "demo-db (stopped)</failure>\n"
        "  </testcase>\n"
        '  <testcase classname="leak-check" name="containers" />\n'
        '  <testcase classname="leak-check" name="snapshots" />\n'
        '  <testcase classname="leak-check" name="leases">\n'
        '    <failure message="1 leaked">reconciler-apply-1</failure>\n'
        "  </testcase>\n"
        '  <testcase classname="leak-check" name="shims" />\n'
        '  <testcase classname="leak-check" name="mounts" />\n'
        '  <testcase classname="leak-check" name="cgroups">\n'
        '    <skipped message="cgroup v1 is not supported" />\n'
        "  </testcase>\n"
        '  <testcase classname="leak-check" name="network-namespaces" />\n'
        '  <testcase classname="leak-check" name="veths" />\n'
        '  <testcase classname="leak-check" name="ipam-allocations" />\n'
        '  <testcase classname="leak-check" name="port-mappings" />\n'
        '  <testcase classname="leak-check" name="bridges" />\n'
        '  <testcase classname="leak-check" name="host-processes" />\n'
        '  <testcase classname="leak-check" name="volumes" />\n'
        '  <testcase classname="leak-check" name="log-files" />\n'
        "</testsuite>\n"
    )


def test_a_clean_junit_report_has_a_passing_case_per_class() -> None:
    suite = ET.fromstring(render_junit(CLEAN))
    cases = suite.findall("testcase")
    assert [case.get("name") for case in cases] == [c.value for c in LeakClass]
    assert all(len(case) == 0 for case in cases)
    assert (suite.get("failures"), suite.get("skipped")) == ("0", "0")


def test_junit_escapes_markup_and_quotes_in_ids_details_and_reasons() -> None:
    item = LeakedItem(id='</failure><x a="1">&', detail="'quoted'")
    report = a_report(
        Checked(leak_class=LeakClass.MOUNTS, leaked=(item,)),
        Unchecked(leak_class=LeakClass.SHIMS, reason='<no "proc"> & more'),
    )
    suite = ET.fromstring(render_junit(report))
    failure = suite.find("testcase[@name='mounts']/failure")
    skipped = suite.find("testcase[@name='shims']/skipped")
    assert failure is not None
    assert skipped is not None
    assert failure.text == "</failure><x a=\"1\">& ('quoted')"
    assert skipped.get("message") == '<no "proc"> & more'


def test_junit_stays_well_formed_with_characters_xml_cannot_carry() -> None:
    item = LeakedItem(id="bad\x00name\x1b[31m", detail="bell\x07")
    report = a_report(Checked(leak_class=LeakClass.LOG_FILES, leaked=(item,)))
    failure = ET.fromstring(render_junit(report)).find("testcase[@name='log-files']/failure")
    assert failure is not None
    assert failure.text == "bad\\x00name\\x1b[31m (bell\\x07)"


def test_junit_properties_name_the_scope() -> None:
    suite = ET.fromstring(render_junit(a_report(all_projects=True)))
    properties = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert properties == {"project": "demo", "namespace": "orch", "all_projects": "true"}


# Kept on purpose

KEPT = a_report(
    Checked(
        leak_class=LeakClass.VOLUMES,
        kept=(LeakedItem(id="/state/volumes/data", detail="volume 'data' kept by `down`"),),
    )
)


def test_kept_data_is_listed_and_the_check_is_clean() -> None:
    assert render_text(KEPT) == (
        "volumes: kept: /state/volumes/data (volume 'data' kept by `down`)\n"
        "no leaks; 1 kept on purpose (project demo, namespace orch)\n"
    )
    assert exit_code(KEPT) == 0


def test_json_counts_and_lists_what_was_kept() -> None:
    tree = leak_tree(KEPT)
    assert tree["result"] == "clean"
    assert tree["kept"] == 1
    assert tree["classes"]["volumes"]["kept"] == [
        {"id": "/state/volumes/data", "detail": "volume 'data' kept by `down`"}
    ]


def test_junit_shows_what_was_kept_as_a_passing_cases_output() -> None:
    suite = ET.fromstring(render_junit(KEPT))
    (case,) = [c for c in suite.iter("testcase") if c.attrib["name"] == "volumes"]
    assert case.find("failure") is None
    output = case.find("system-out")
    assert output is not None
    assert output.text == "kept: /state/volumes/data (volume 'data' kept by `down`)"
    assert suite.attrib["failures"] == "0"
