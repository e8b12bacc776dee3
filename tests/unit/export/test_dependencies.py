"""REQUIRES → init containers that wait until the required service answers; AFTER → a note."""

from __future__ import annotations

from reconciler.export.dependencies import after_notes, answering_port, init_containers
from reconciler.export.findings import Directive, Findings, Severity
from reconciler.export.options import ExportOptions
from reconciler.model.desired import CommandCheck, HttpCheck, PublishedPort, TcpCheck
from tests.unit.export.mapping import service


def _waits(dependent, *others, **options):
    exported = {s.name: s for s in (dependent, *others)}
    findings = Findings()
    return init_containers(dependent, exported, ExportOptions(**options), findings), findings


def test_a_required_service_is_waited_for_on_its_first_published_port():
    api = service(
        "api",
        publish=(PublishedPort(host=8080, container=8000), PublishedPort(host=1, container=9)),
    )
    (waiter,), findings = _waits(service("web", requires=("api",)), api)
    assert waiter.name == "wait-for-api"
    assert waiter.image == "busybox:1.37"
    assert waiter.command == (
        "sh",
        "-c",
        "until nc -z -w 2 api 8000; do echo waiting for api:8000; sleep 1; done",
    )
    assert not findings.all()


def test_a_required_service_without_publish_is_waited_for_on_its_own_checks_port():
    db = service("db", healthcheck=TcpCheck(host="127.0.0.1", port=5432))
    (waiter,), _ = _waits(service("web", requires=("db",)), db)
    assert "nc -z -w 2 db 5432" in waiter.command[2]


def test_the_port_that_answers():
    assert answering_port(service("a", healthcheck=HttpCheck(url="http://localhost:81/"))) == 81
    assert answering_port(service("a", healthcheck=CommandCheck(command="true"))) is None


def test_the_wait_image_is_the_users_choice():
    api = service("api", publish=(PublishedPort(host=80, container=80),))
    (waiter,), _ = _waits(service("web", requires=("api",)), api, wait_image="mirror/busybox:1")
    assert waiter.image == "mirror/busybox:1"


def test_a_required_service_with_no_known_port_is_a_warning_and_no_wait():
    waiters, findings = _waits(service("web", requires=("cache",)), service("cache"))
    (finding,) = findings.all()
    assert waiters == ()
    assert (finding.severity, finding.directive, finding.index) == (
        Severity.WARNING,
        Directive.REQUIRES,
        0,
    )


def test_a_required_oneshot_is_a_warning_pointing_at_kubectl_wait():
    migrate = service("migrate", oneshot=True, publish=(PublishedPort(host=1, container=1),))
    waiters, findings = _waits(service("web", requires=("migrate",)), migrate)
    (finding,) = findings.all()
    assert waiters == ()
    assert "kubectl wait --for=condition=complete job/migrate" in finding.message


def test_a_required_service_that_is_not_exported_is_a_warning():
    waiters, findings = _waits(service("web", requires=("clock",)))
    assert waiters == ()
    assert "clock is a host service" in findings.all()[0].message


def test_a_service_required_twice_is_waited_for_once():
    api = service("api", publish=(PublishedPort(host=80, container=80),))
    waiters, _ = _waits(service("web", requires=("api", "api")), api)
    assert len(waiters) == 1


def test_the_waiter_never_takes_the_dependents_own_name():
    db = service("db", healthcheck=TcpCheck(host="127.0.0.1", port=5432))
    (waiter,), _ = _waits(service("wait-for-db", requires=("db",)), db)
    assert waiter.name != "wait-for-db"


def test_after_is_one_warning_naming_every_service():
    findings = Findings()
    after_notes(service("web", after=("db", "cache")), findings)
    (finding,) = findings.all()
    assert (finding.severity, finding.directive) == (Severity.WARNING, Directive.AFTER)
    assert finding.message.startswith("AFTER db cache:")


def test_no_after_no_note():
    findings = Findings()
    after_notes(service("web"), findings)
    assert not findings.all()
