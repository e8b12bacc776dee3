"""Whatever the files and the host checks accept, the runtime can be given: a property.

Hypothesis writes service blocks with any values for the directives the runtime
interprets (limits, checks, commands, environment). Either reading them refuses the file
(`InvalidOrchfile`, one located line each), or every accepted service turns into a
container runtime spec and host cgroup limits without any error: no overflow, no value
runc or the kernel would refuse by range, no NUL byte in what a process is given.
"""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.app.preflight import Host, checked
from reconciler.drivers.containerd.image_config import ImageConfig
from reconciler.drivers.containerd.ocispec import ContainerInputs, build_spec
from reconciler.drivers.containerd.users import ProcessUser
from reconciler.drivers.host.cgroups import limit_writes
from reconciler.errors import Diagnostic, InvalidOrchfile
from reconciler.model.desired import DesiredStack, ProjectName, ServiceMode
from reconciler.model.limits import MAX_CPU_QUOTA_US, MAX_MEMORY, MAX_TASKS, MIN_MEMORY
from reconciler.orchfile.loader import SourceFile, load_sources
from reconciler.orchfile.semantic import ProjectContext, desired_stack

HOST = Host(cores=2, nr_open=1024 * 1024, euid=0)
PROJECT_DIR = Path("/srv/app")
NUMBERS = st.one_of(
    st.integers(min_value=-5, max_value=2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(lambda f: f"{f:g}"),
    st.sampled_from(["0", "1", "1e308", "99999999999T", "6M", "512M", "1.5", "9" * 400]),
)
# Values at the edges of what the kernel and runc take, valid and just not.
EDGES = st.sampled_from(
    [
        "6M", "6291455", "6291456", "8388607T", "8388608T", "175921860", "175921861",
        "4194304", "4194305", "1048576", "1048577", "10", "1000", "1001", "0.001", "1e-9",
        "17592186044415%", "1%", "tcp://127.0.0.1:1", "tcp://[::1]:65535", "http://x/",
        "https://127.0.0.1:8443/ready", "pg_isready -q", "sh -c 'exit 0'",
    ]
)  # fmt: skip
SIZES = st.one_of(NUMBERS, NUMBERS.map(lambda n: n + "M"), NUMBERS.map(lambda n: n + "T"))
WORDS = st.text(alphabet="ab '\"\\$;|\x00\x01é", min_size=1, max_size=20)
LINES = st.dictionaries(
    st.sampled_from(
        [
            "MEMORY",
            "CPUS",
            "CPU_QUOTA",
            "LIMIT_NOFILE",
            "LIMIT_NPROC",
            "TASKS_MAX",
            "IO_WEIGHT",
            "HEALTHCHECK",
            "CMD",
            "ENV",
        ]
    ),
    st.one_of(EDGES, EDGES, EDGES, SIZES, NUMBERS.map(lambda n: n + "%"), WORDS),
    max_size=3,
)


def service_block(values: dict[str, str]) -> str:
    lines = ["SERVICE web", "  FROM registry.example.com/web:1"]
    for directive, value in values.items():
        if directive == "ENV":
            lines.append(f"  ENV VALUE={value}")
        else:
            lines.append(f"  {directive} {value}")
    return "\n".join(lines).replace("\n\n", "\n") + "\n"


def read(text: str) -> DesiredStack | tuple[Diagnostic, ...]:
    """The desired state of `text` as every command reads it, or the refusal."""
    context = ProjectContext(
        project=ProjectName("app"),
        namespace="orch",
        project_dir=PROJECT_DIR,
        state_root=Path("/state"),
        files=(PROJECT_DIR / "Orchfile",),
    )
    try:
        document = load_sources([SourceFile(name="Orchfile", text=text)], {}, {})
        desired = desired_stack(document, context)
        checked(desired, HOST)
    except InvalidOrchfile as refused:
        return refused.diagnostics
    return desired


@settings(max_examples=1500, suppress_health_check=[HealthCheck.too_slow])
@given(LINES)
def test_what_is_accepted_becomes_a_runtime_spec_and_cgroup_limits(values: dict[str, str]) -> None:
    desired = read(service_block(values))
    if isinstance(desired, tuple):
        assert all("\n" not in str(d) for d in desired), "each refusal is one line"
        return
    for service in desired.services:
        assert service.mode is ServiceMode.CONTAINER
        spec = build_spec(
            ContainerInputs(
                container_id="app-web",
                namespace="orch",
                service=service,
                image=ImageConfig(entrypoint=(), cmd=("sh",)),
                user=ProcessUser(uid=0, gid=0),
            )
        )
        json.dumps(spec, allow_nan=False)  # what containerd is sent: plain JSON
        resources = spec["linux"]["resources"]
        if "memory" in resources:
            assert MIN_MEMORY <= resources["memory"]["limit"] <= MAX_MEMORY
        if "cpu" in resources:
            assert 1000 <= resources["cpu"]["quota"] <= MAX_CPU_QUOTA_US
        if "pids" in resources:
            assert 1 <= resources["pids"]["limit"] <= MAX_TASKS
        assert "\x00" not in json.dumps(spec["process"])
        for version in (1, 2):
            for write in limit_writes(version, service.resources):
                assert write.value.isprintable()
