"""`plan -o text|json`: everything `apply` would do, for people and for scripts.

It renders the controllers' projection (actions are the planner's own data), so it lives
with the CLI rather than in `report`, which presents the model alone. Text is one line
per action in the order `apply` takes them (`create web: not created yet`), a later one
saying what it waits for (`(waits for db healthy, migrate completed)`); then one line per
service that cannot get where it should without a change (`fails db: ...`, `pending web:
blocked (...)`). JSON (schema in docs/plan.md) carries the same, typed: each action's
step, service, verb, cause and waits; the services that will fail; the ones left waiting.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from reconciler.controllers.actions import Record, describe, subject, verb
from reconciler.controllers.projection import Projection, Step
from reconciler.model.status import ServiceState, ServiceStatus
from reconciler.report.status_view import unsettled_line


@dataclass(frozen=True, kw_only=True)
class PlanReport:
    project: str
    namespace: str
    projection: Projection
    registry_checked: bool

    @property
    def failing(self) -> tuple[ServiceStatus, ...]:
        return tuple(s for s in self.projection.never if s.state is ServiceState.FAILED)

    @property
    def waiting(self) -> tuple[ServiceStatus, ...]:
        return tuple(s for s in self.projection.never if s.state is not ServiceState.FAILED)


def action_line(step: Step) -> str:
    line = describe(step.action)
    if step.waits_for:
        line += f" (waits for {', '.join(str(w) for w in step.waits_for)})"
    return line


def render_text(report: PlanReport) -> str:
    lines = [action_line(step) for step in report.projection.changes]
    lines += [f"fails {unsettled_line(s).replace(': failed', '', 1)}" for s in report.failing]
    lines += [f"pending {unsettled_line(s)}" for s in report.waiting]
    return "".join(f"{line}\n" for line in lines) or "no changes\n"


def plan_tree(report: PlanReport) -> dict[str, Any]:
    return {
        "project": report.project,
        "namespace": report.namespace,
        "registry_checked": report.registry_checked,
        "actions": [
            {
                "step": step.step,
                "service": subject(step.action),
                "verb": verb(step.action).value,
                "cause": step.action.cause,
                "waits_for": [
                    {"service": w.service, "condition": w.condition} for w in step.waits_for
                ],
            }
            for step in report.projection.steps
            if not isinstance(step.action, Record)
        ],
        "failing": [{"service": s.name, "reason": s.reason} for s in report.failing],
        "waiting": [
            {"service": s.name, "state": s.state.value, "reason": s.reason} for s in report.waiting
        ],
    }


def render_json(report: PlanReport) -> str:
    return json.dumps(plan_tree(report), indent=2, ensure_ascii=False) + "\n"
