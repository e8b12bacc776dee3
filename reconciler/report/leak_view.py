"""`leak-check -o text|json|junit` and its exit code, from a `LeakReport`.

Text is one line per leak, per item kept on purpose (`volumes: kept: ...`) and per
unchecked class, then a summary line. JUnit XML makes each leak class a test case, so a
CI system shows "tasks: 2 leaked" as a failed test, an unchecked class as skipped, and
what was kept in the passing case's output. Item ids and details come from the outside world (paths,
process names), so every renderer keeps them inert: control characters are escaped in
text, and characters XML 1.0 cannot carry are escaped before xml.etree quotes the rest.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from typing import Any, Final, assert_never

from reconciler.model.leaks import (
    Checked,
    ClassOutcome,
    LeakedItem,
    LeakReport,
    LeakVerdict,
    Unchecked,
)

EXIT_CLEAN: Final = 0
EXIT_LEAKED: Final = 1
EXIT_UNCHECKED: Final = 2

_CONTROL: Final = re.compile(r"[\x00-\x1f\x7f]")
# Outside XML 1.0's Char production (tab, LF and CR are allowed and kept).
_NOT_XML: Final = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def exit_code(report: LeakReport) -> int:
    """0 no leaks; 1 leaks; 2 a class could not be checked and no leak was found."""
    match report.verdict:
        case LeakVerdict.CLEAN:
            return EXIT_CLEAN
        case LeakVerdict.LEAKED:
            return EXIT_LEAKED
        case LeakVerdict.UNCHECKED:
            return EXIT_UNCHECKED
        case unreachable:
            assert_never(unreachable)


def _scope(report: LeakReport) -> str:
    project = "all projects" if report.all_projects else f"project {report.project}"
    return f"{project}, namespace {report.namespace}"


def _escape_control(text: str) -> str:
    return _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


def _item_line(item: LeakedItem) -> str:
    return f"{item.id} ({item.detail})" if item.detail else item.id


def render_text(report: LeakReport) -> str:
    lines: list[str] = []
    for outcome in report.outcomes:
        name = outcome.leak_class.value
        match outcome:
            case Checked(leaked=leaked, kept=kept):
                lines += [_escape_control(f"{name}: {_item_line(item)}") for item in leaked]
                lines += [_escape_control(f"{name}: kept: {_item_line(item)}") for item in kept]
            case Unchecked(reason=reason):
                lines.append(_escape_control(f"{name}: not checked: {reason}"))
            case unreachable:
                assert_never(unreachable)
    lines.append(_summary(report))
    return "\n".join(lines) + "\n"


def _summary(report: LeakReport) -> str:
    count = report.leaked_count
    unchecked = [outcome.leak_class.value for outcome in report.unchecked]
    if count:
        classes = sum(1 for o in report.outcomes if isinstance(o, Checked) and o.leaked)
        summary = f"{count} {_plural(count, 'leak')} in {classes} {_plural(classes, 'class')}"
    elif unchecked:
        summary = "no leaks in the classes checked"
    else:
        summary = "no leaks"
    if unchecked:
        summary += f"; could not check {len(unchecked)}: {', '.join(unchecked)}"
    if report.kept_count:
        summary += f"; {report.kept_count} kept on purpose"
    return f"{summary} ({_scope(report)})"


def _plural(count: int, noun: str) -> str:
    if count == 1:
        return noun
    return f"{noun}es" if noun.endswith("s") else f"{noun}s"


def leak_tree(report: LeakReport) -> dict[str, Any]:
    return {
        "project": report.project,
        "namespace": report.namespace,
        "all_projects": report.all_projects,
        "result": report.verdict.value,
        "leaked": report.leaked_count,
        "kept": report.kept_count,
        "classes": {o.leak_class.value: _outcome_tree(o) for o in report.outcomes},
    }


def _outcome_tree(outcome: ClassOutcome) -> dict[str, Any]:
    match outcome:
        case Checked(leaked=leaked, kept=kept):
            items = [{"id": item.id, "detail": item.detail} for item in leaked]
            kept_items = [{"id": item.id, "detail": item.detail} for item in kept]
            return {"checked": True, "reason": None, "leaked": items, "kept": kept_items}
        case Unchecked(reason=reason):
            return {"checked": False, "reason": reason, "leaked": [], "kept": []}
        case unreachable:
            assert_never(unreachable)


def render_json(report: LeakReport) -> str:
    return json.dumps(leak_tree(report), indent=2, ensure_ascii=False) + "\n"


def _xml_safe(text: str) -> str:
    return _NOT_XML.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


def render_junit(report: LeakReport) -> str:
    """One `<testsuite>`; per leak class one `<testcase>`, failed or skipped as found."""
    failures = sum(1 for o in report.outcomes if isinstance(o, Checked) and o.leaked)
    suite = ET.Element(
        "testsuite",
        {
            "name": "reconciler leak-check",
            "tests": str(len(report.outcomes)),
            "failures": str(failures),
            "errors": "0",
            "skipped": str(len(report.unchecked)),
        },
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in (
        ("project", report.project),
        ("namespace", report.namespace),
        ("all_projects", "true" if report.all_projects else "false"),
    ):
        ET.SubElement(properties, "property", {"name": name, "value": _xml_safe(value)})
    for outcome in report.outcomes:
        case = ET.SubElement(
            suite, "testcase", {"classname": "leak-check", "name": outcome.leak_class.value}
        )
        match outcome:
            case Checked(leaked=leaked, kept=kept):
                if leaked:
                    message = f"{len(leaked)} leaked"
                    failure = ET.SubElement(case, "failure", {"message": message})
                    failure.text = _xml_safe("\n".join(_item_line(item) for item in leaked))
                if kept:
                    output = ET.SubElement(case, "system-out")
                    output.text = _xml_safe("\n".join(f"kept: {_item_line(i)}" for i in kept))
            case Unchecked(reason=reason):
                ET.SubElement(case, "skipped", {"message": _xml_safe(reason)})
            case unreachable:
                assert_never(unreachable)
    ET.indent(suite)
    body = ET.tostring(suite, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'
