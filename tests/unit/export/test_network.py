"""PUBLISH → a Service of the `--expose` type; every long-running service gets a name."""

from __future__ import annotations

from reconciler.export import kube
from reconciler.export.findings import Directive, Findings, Severity
from reconciler.export.network import container_ports, service_object
from reconciler.export.options import ExportOptions, Exposure
from reconciler.model.desired import PublishedPort
from tests.unit.export.mapping import LABELLING, messages, service


def _ports(*written):
    ports = []
    for text in written:
        *address, host, container = text.split(":")
        ports.append(
            PublishedPort(
                host=int(host), container=int(container), address=address[0] if address else None
            )
        )
    return tuple(ports)


def _service(*published, oneshot=False, exposure=Exposure.CLUSTER_IP):
    findings = Findings()
    svc = service("web", publish=_ports(*published), oneshot=oneshot)
    return service_object(svc, LABELLING, ExportOptions(exposure=exposure), findings), findings


def _port_map(found):
    return [(p.name, p.port, p.target_port, p.node_port) for p in found.spec.ports]


def test_a_service_without_publish_gets_a_headless_service_under_its_name():
    found, findings = _service()
    assert found.metadata.name == "web"
    assert (found.spec.cluster_ip, found.spec.ports) == ("None", ())
    assert found.spec.selector == LABELLING.selector("web")
    assert not findings.all()


def test_a_oneshot_that_publishes_nothing_gets_no_service():
    assert _service(oneshot=True)[0] is None


def test_a_oneshot_that_publishes_gets_its_service():
    assert _service("8080:80", oneshot=True)[0] is not None


def test_published_ports_answer_on_the_container_port_inside_the_cluster():
    found, findings = _service("8080:80", "9090:9090")
    assert found.spec.type is kube.ServiceType.CLUSTER_IP
    assert found.spec.cluster_ip is None
    assert _port_map(found) == [("tcp-80", 80, 80, None), ("tcp-9090", 9090, 9090, None)]
    assert not findings.all()


def test_one_container_port_published_twice_is_one_service_port():
    assert _port_map(_service("8080:80", "8081:80")[0]) == [("tcp-80", 80, 80, None)]


def test_the_container_declares_each_published_port_once():
    svc = service("web", publish=_ports("8080:80", "8081:80", "443:443"))
    assert container_ports(svc) == (
        kube.ContainerPort(name="tcp-80", container_port=80),
        kube.ContainerPort(name="tcp-443", container_port=443),
    )


def test_a_bound_address_is_no_warning_inside_the_cluster():
    assert not _service("127.0.0.1:8080:80")[1].all()


def test_nodeport_keeps_a_host_port_in_the_node_port_range():
    found, findings = _service("30080:80", exposure=Exposure.NODE_PORT)
    assert found.spec.type is kube.ServiceType.NODE_PORT
    assert _port_map(found) == [("tcp-80", 80, 80, 30080)]
    assert not findings.all()


def test_nodeport_lets_the_cluster_choose_for_a_host_port_outside_the_range():
    found, findings = _service("8080:80", exposure=Exposure.NODE_PORT)
    (finding,) = findings.all()
    assert _port_map(found) == [("tcp-80", 80, 80, None)]
    assert (finding.severity, finding.directive) == (Severity.WARNING, Directive.PUBLISH)
    assert "8080" in finding.message


def test_a_random_host_port_is_a_node_port_the_cluster_chooses_without_a_warning():
    assert not _service("0:80", exposure=Exposure.NODE_PORT)[1].all()


def test_a_load_balancer_also_listens_on_the_host_ports():
    found, findings = _service("8080:80", "443:443", exposure=Exposure.LOAD_BALANCER)
    assert found.spec.type is kube.ServiceType.LOAD_BALANCER
    assert _port_map(found) == [
        ("tcp-80", 80, 80, None),
        ("tcp-443", 443, 443, None),
        ("host-8080", 8080, 80, None),
    ]
    assert not findings.all()


def test_a_bound_address_is_a_warning_where_the_service_answers_on_every_address():
    for exposure in (Exposure.NODE_PORT, Exposure.LOAD_BALANCER):
        _, findings = _service("127.0.0.1:30080:80", exposure=exposure)
        assert messages(findings) == [
            f"service 'web': PUBLISH 127.0.0.1:30080:80 is bound to 127.0.0.1 on the host; the "
            f"{exposure.value} Service answers on "
            + (
                "every node's address"
                if exposure is Exposure.NODE_PORT
                else "the balancer's address"
            )
        ]


def test_a_wildcard_address_is_no_warning():
    assert not _service("0.0.0.0:30080:80", exposure=Exposure.NODE_PORT)[1].all()


def test_container_port_zero_is_an_error():
    _, findings = _service("8080:0")
    (finding,) = findings.all()
    assert (finding.severity, finding.directive, finding.index) == (
        Severity.ERROR,
        Directive.PUBLISH,
        0,
    )


def test_a_service_named_kubernetes_is_an_error_in_the_default_namespace():
    findings = Findings()
    svc = service("kubernetes")
    service_object(svc, LABELLING, ExportOptions(namespace="default"), findings)
    (finding,) = findings.all()
    assert (finding.severity, finding.directive) == (Severity.ERROR, Directive.SERVICE)


def test_a_service_named_kubernetes_is_a_warning_without_a_namespace_and_fine_in_another():
    for namespace, count in ((None, 1), ("shop", 0)):
        findings = Findings()
        service_object(
            service("kubernetes"), LABELLING, ExportOptions(namespace=namespace), findings
        )
        assert [f.severity for f in findings.all()] == [Severity.WARNING] * count
