"""Objects to text: the JSON tree's shape and key order, Secrets' data, YAML and JSON."""

from __future__ import annotations

import json

import yaml as pyyaml

from reconciler.export import kube
from reconciler.export.output import OutputFormat, manifest_files, render
from reconciler.export.tree import camel, to_tree
from reconciler.model.secret import Secret

META = kube.ObjectMeta(name="web", labels={"app.kubernetes.io/name": "web"})


def _secret(**data: str) -> kube.Secret:
    return kube.Secret(metadata=META, data={k: Secret(v) for k, v in data.items()})


def _service(**spec: object) -> kube.Service:
    fields: dict[str, object] = {"type": kube.ServiceType.CLUSTER_IP, "selector": {"a": "b"}}
    fields.update(spec)
    return kube.Service(metadata=META, spec=kube.ServiceSpec(**fields))


def test_api_version_and_kind_come_first_then_the_fields_in_declaration_order():
    assert list(to_tree(_secret(A="1"))) == ["apiVersion", "kind", "metadata", "type", "data"]


def test_field_names_become_camel_case():
    assert camel("termination_grace_period_seconds") == "terminationGracePeriodSeconds"


def test_a_field_can_name_its_own_key():
    assert to_tree(_service(cluster_ip="None"))["spec"]["clusterIP"] == "None"


def test_absent_values_and_empty_lists_and_maps_are_left_out():
    spec = to_tree(_service(ports=()))["spec"]
    assert spec == {"type": "ClusterIP", "selector": {"a": "b"}}


def test_false_is_written_not_left_out():
    pod = kube.PodSpec(
        restart_policy=kube.RestartPolicy.ALWAYS,
        termination_grace_period_seconds=0,
        containers=(kube.Container(name="c", image="i"),),
    )
    deployment = kube.Deployment(
        metadata=META,
        spec=kube.DeploymentSpec(
            replicas=0,
            selector=kube.LabelSelector(match_labels={"a": "b"}),
            template=kube.PodTemplateSpec(
                metadata=kube.PodTemplateMeta(labels={"a": "b"}), spec=pod
            ),
        ),
    )
    tree = to_tree(deployment)["spec"]
    assert tree["replicas"] == 0
    assert tree["template"]["spec"]["enableServiceLinks"] is False
    assert tree["template"]["spec"]["terminationGracePeriodSeconds"] == 0


def test_an_inline_alternative_is_written_under_its_own_key():
    probe = kube.Probe(
        handler=kube.TcpSocketAction(port=5432),
        period_seconds=5,
        timeout_seconds=5,
        failure_threshold=3,
    )
    volume = kube.Volume(name="data", source=kube.PersistentVolumeClaimSource(claim_name="data"))
    container = kube.Container(name="db", image="postgres", liveness_probe=probe)
    pod = kube.PodSpec(
        restart_policy=kube.RestartPolicy.NEVER,
        termination_grace_period_seconds=1,
        containers=(container,),
        volumes=(volume,),
    )
    job = kube.Job(
        metadata=META,
        spec=kube.JobSpec(
            backoff_limit=0,
            template=kube.PodTemplateSpec(
                metadata=kube.PodTemplateMeta(labels={"a": "b"}), spec=pod
            ),
        ),
    )
    spec = to_tree(job)["spec"]["template"]["spec"]
    assert spec["containers"][0]["livenessProbe"]["tcpSocket"] == {"port": 5432}
    assert spec["volumes"][0] == {"name": "data", "persistentVolumeClaim": {"claimName": "data"}}


def test_secret_data_is_base64_of_the_value():
    assert to_tree(_secret(TOKEN="hunter2"))["data"] == {"TOKEN": "aHVudGVyMg=="}


def test_a_secret_object_never_shows_its_values_in_its_repr():
    assert "hunter2" not in repr(_secret(TOKEN="hunter2"))


def test_yaml_is_one_document_per_object_each_opened_by_three_dashes():
    text = render([_secret(A="1"), _service()], OutputFormat.YAML)
    assert text.startswith("---\napiVersion: v1\nkind: Secret\n")
    assert text.count("\n---\n") == 1
    assert [d["kind"] for d in pyyaml.safe_load_all(text)] == ["Secret", "Service"]


def test_strings_a_yaml_1_1_reader_would_retype_are_quoted():
    words = ("no", "on", "yes", "y", "off", "0755", "1:20", "2024-01-01", "1e3", "~", "null")
    container = kube.Container(name="c", image="i", args=words)
    pod = kube.PodSpec(
        restart_policy=kube.RestartPolicy.NEVER,
        termination_grace_period_seconds=1,
        containers=(container,),
    )
    job = kube.Job(
        metadata=META,
        spec=kube.JobSpec(
            backoff_limit=0,
            template=kube.PodTemplateSpec(
                metadata=kube.PodTemplateMeta(labels={"a": "b"}), spec=pod
            ),
        ),
    )
    text = render([job], OutputFormat.YAML)
    assert pyyaml.safe_load(text)["spec"]["template"]["spec"]["containers"][0]["args"] == list(
        words
    )


def test_plain_strings_stay_plain():
    assert "name: web\n" in render([_service()], OutputFormat.YAML)


def test_json_is_a_v1_list_of_the_objects_with_the_same_keys_in_the_same_order():
    objects = [_secret(A="1"), _service()]
    tree = json.loads(render(objects, OutputFormat.JSON))
    assert (tree["apiVersion"], tree["kind"]) == ("v1", "List")
    assert tree["items"] == [to_tree(o) for o in objects]
    assert list(tree["items"][0]) == list(to_tree(objects[0]))


def test_nothing_to_export_is_an_empty_yaml_stream():
    assert render([], OutputFormat.YAML) == ""


def test_each_object_is_a_file_named_after_its_name_and_kind():
    files = manifest_files([_secret(A="1"), _service()], OutputFormat.YAML)
    assert [f.name for f in files] == ["web-secret.yaml", "web-service.yaml"]
    assert files[1].text == render([_service()], OutputFormat.YAML)


def test_json_files_hold_one_object_each():
    (file,) = manifest_files([_service()], OutputFormat.JSON)
    assert file.name == "web-service.json"
    assert json.loads(file.text) == to_tree(_service())
