"""What one check of a probe loop makes of a service's health: a service that has been
healthy is unhealthy only after three failed checks in a row (a liveness failure, which
its restart policy answers); one that never was is `starting` until READINESS_TIMEOUT."""

from __future__ import annotations

from datetime import UTC, datetime

from reconciler.app.health import judge
from reconciler.controllers.knowledge import ServiceKnowledge
from reconciler.model.status import Health, ProbeResult

NOW = datetime(2026, 1, 1, tzinfo=UTC)
PASSED = ProbeResult(healthy=True, detail="exit code 0", at=NOW)
FAILED = ProbeResult(healthy=False, detail="exit code 1", at=NOW)


def test_a_healthy_service_stays_healthy_until_three_checks_in_a_row_fail() -> None:
    known = judge(ServiceKnowledge(), PASSED, outgrown_readiness=False)
    seen = []
    for _ in range(3):
        known = judge(known, FAILED, outgrown_readiness=False)
        seen.append((known.health, known.failed_checks, known.unhealthy_since))

    assert seen == [
        (Health.HEALTHY, 1, None),
        (Health.HEALTHY, 2, None),
        (Health.UNHEALTHY, 3, NOW),
    ]
    assert judge(known, PASSED, outgrown_readiness=False).unhealthy_since is None


def test_a_service_never_healthy_is_starting_until_its_readiness_timeout() -> None:
    young = judge(ServiceKnowledge(), FAILED, outgrown_readiness=False)
    old = judge(young, FAILED, outgrown_readiness=True)
    assert (young.health, old.health) == (Health.STARTING, Health.UNHEALTHY)
    assert old.unhealthy_since is None  # not a liveness failure: it never was alive
