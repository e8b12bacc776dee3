"""FROM → the image the cluster pulls: a registry reference, or a local one mapped."""

from __future__ import annotations

from pathlib import Path

import pytest

from reconciler.errors import UsageError
from reconciler.export.findings import Directive, Findings, Severity
from reconciler.export.images import image_reference, unused_mappings
from reconciler.export.options import ExportOptions, parse_image_mapping
from reconciler.model.desired import LocalImage, RegistryImage
from tests.unit.export.mapping import service

PROJECT = Path("/home/me/shop")
LOCAL = LocalImage(path=PROJECT / "images/web", written_as="./images/web")


def _image(image, *maps, cwd=PROJECT):
    findings = Findings()
    options = ExportOptions(image_map=tuple(parse_image_mapping(m, cwd) for m in maps))
    return image_reference(service("web", image=image), options, findings), findings


def test_a_registry_reference_is_pulled_as_written():
    reference, findings = _image(RegistryImage(reference="nginx:1.27"))
    assert reference == "nginx:1.27"
    assert not findings.all()


def test_a_local_image_without_a_mapping_is_an_error_naming_the_flag():
    reference, findings = _image(LOCAL)
    (finding,) = findings.all()
    assert reference is None
    assert (finding.severity, finding.directive) == (Severity.ERROR, Directive.FROM)
    assert "--image-map ./images/web=REGISTRY/NAME:TAG" in finding.message


@pytest.mark.parametrize(
    ("mapping", "cwd"),
    [
        ("./images/web=reg.example/web:1", PROJECT),
        ("images/web=reg.example/web:1", PROJECT),
        ("./images/web/=reg.example/web:1", Path("/elsewhere")),
        ("../shop/images/web=reg.example/web:1", PROJECT),
        ("/home/me/shop/images/web=reg.example/web:1", Path("/")),
    ],
)
def test_a_local_image_is_mapped_by_what_from_says_or_by_the_same_path(mapping, cwd):
    reference, findings = _image(LOCAL, mapping, cwd=cwd)
    assert reference == "reg.example/web:1"
    assert not findings.all()


@pytest.mark.parametrize(
    "reference",
    ["localhost:5000/web:1", "127.0.0.1:5000/web", "[::1]:5000/web:2", "localhost/web"],
)
def test_a_registry_on_this_host_is_a_warning(reference):
    found, findings = _image(RegistryImage(reference=reference))
    assert found == reference
    assert findings.all()[0].severity is Severity.WARNING


@pytest.mark.parametrize(
    "reference", ["nginx", "library/nginx:1", "registry.example.com/localhost:1"]
)
def test_other_registries_are_no_warning(reference):
    assert not _image(RegistryImage(reference=reference))[1].all()


def test_a_registry_reference_can_be_mapped_too():
    found, findings = _image(
        RegistryImage(reference="localhost:5000/web:1"), "localhost:5000/web:1=reg.example/web:1"
    )
    assert found == "reg.example/web:1"
    assert not findings.all()


def test_a_mapping_no_from_uses_is_a_warning():
    options = ExportOptions(image_map=(parse_image_mapping("./old=reg.example/old:1", PROJECT),))
    findings = Findings()
    unused_mappings([service("web", image=LOCAL)], options, findings)
    assert [f.describe() for f in findings.all()] == ["--image-map ./old: no service has that FROM"]


@pytest.mark.parametrize("text", ["./img", "=reg/x:1", "./img=", "./img=./other", "./img=a b"])
def test_a_mapping_must_be_local_equals_a_registry_reference(text):
    with pytest.raises(UsageError, match="--image-map"):
        parse_image_mapping(text, PROJECT)
