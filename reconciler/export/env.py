"""ENV and ENV_FILE → Secrets the container reads, never values in the pod spec.

Each ENV_FILE becomes a Secret `<service>-env-file-<n>` (n counts the service's
ENV_FILEs from 1) holding the file's content as read now, taken whole with `envFrom`, in
order. ENV becomes one Secret `<service>-env`, and each variable an `env[]` entry whose
`valueFrom` names its key: the pod spec lists the names, never the values, and `env`
wins over every `envFrom`, which is the precedence our runtime gives ENV over ENV_FILE
(a later ENV_FILE wins over an earlier one, as a later `envFrom` does).

A Secret's keys may hold only letters, digits, `-`, `_` and `.`; Kubernetes accepts any
printable ASCII but `=` in a variable's name. A name outside the first set is stored
under a key made from it (`names.dns_label`); a name outside the second has no
Kubernetes form: an error naming the service and the name (a name, never a value).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from reconciler.export import kube
from reconciler.export.findings import Directive, Findings
from reconciler.export.labels import Labelling
from reconciler.export.names import dns_label
from reconciler.model.desired import DesiredService
from reconciler.model.secret import Secret

_SECRET_KEY: Final = re.compile(r"[-._a-zA-Z0-9]+")
_ENV_NAME: Final = re.compile(r"[\x20-\x3c\x3e-\x7e]+")


@dataclass(frozen=True, kw_only=True)
class Environment:
    secrets: tuple[kube.Secret, ...] = ()
    env_from: tuple[kube.EnvFromSource, ...] = ()
    env: tuple[kube.EnvVar, ...] = ()


def env_secret_name(service: DesiredService) -> str:
    return f"{service.name}-env"


def env_file_secret_name(service: DesiredService, number: int) -> str:
    return f"{service.name}-env-file-{number}"


def environment(
    service: DesiredService,
    env_files: Sequence[Mapping[str, Secret]],
    labelling: Labelling,
    findings: Findings,
) -> Environment:
    secrets: list[kube.Secret] = []
    for number, content in enumerate(env_files, start=1):
        if content:
            name = env_file_secret_name(service, number)
            secrets.append(_secret(name, service, content, labelling))
    env_from = tuple(
        kube.EnvFromSource(secret_ref=kube.SecretEnvSource(name=s.metadata.name)) for s in secrets
    )
    name = env_secret_name(service)
    data: dict[str, Secret] = {}
    variables: list[kube.EnvVar] = []
    for index, (variable, value) in enumerate(service.env.items()):
        if not _ENV_NAME.fullmatch(variable):
            findings.fail(
                service.name,
                Directive.ENV,
                f"ENV name {variable!r} is not a Kubernetes environment variable name "
                "(printable ASCII, without '=')",
                index,
            )
            continue
        stored = variable if _SECRET_KEY.fullmatch(variable) else dns_label(variable)
        data[stored] = value
        selector = kube.SecretKeySelector(name=name, key=stored)
        variables.append(
            kube.EnvVar(name=variable, value_from=kube.EnvVarSource(secret_key_ref=selector))
        )
    if data:
        secrets.append(_secret(name, service, data, labelling))
    return Environment(secrets=tuple(secrets), env_from=env_from, env=tuple(variables))


def _secret(
    name: str, service: DesiredService, data: Mapping[str, Secret], labelling: Labelling
) -> kube.Secret:
    return kube.Secret(metadata=labelling.metadata(name, app=service.name), data=dict(data))
