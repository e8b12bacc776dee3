"""From the resolved document to the desired state: defaults, built-ins, paths, errors."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from reconciler.errors import InvalidOrchfile, Location
from reconciler.model.desired import (
    BindMount,
    CommandCheck,
    DesiredService,
    DesiredStack,
    HttpCheck,
    LocalImage,
    NamedVolume,
    ProjectName,
    RegistryImage,
    Restart,
    ServiceMode,
    TcpCheck,
)
from reconciler.orchfile.loader import SourceFile, load_sources
from reconciler.orchfile.semantic import (
    ProjectContext,
    default_project_name,
    desired_stack,
    project_name_error,
)

PROJECT_DIR = Path("/srv/demo")
STATE_ROOT = Path("/var/lib/reconciler")
STATE_DIR = STATE_ROOT / "projects" / "orch" / "demo"
FILE = "Orchfile"


def context(project: str = "demo", port_offset: str = "0") -> ProjectContext:
    return ProjectContext(
        project=ProjectName(project),
        namespace="orch",
        project_dir=PROJECT_DIR,
        state_root=STATE_ROOT,
        files=(PROJECT_DIR / FILE,),
        port_offset=port_offset,
    )


def stack(text: str, ctx: ProjectContext | None = None) -> DesiredStack:
    document = load_sources([SourceFile(name=FILE, text=text)], {}, {})
    return desired_stack(document, ctx or context())


def container(*lines: str, ctx: ProjectContext | None = None) -> DesiredService:
    """The one container service `web` (FROM nginx) with `lines` added to its block."""
    return stack("\n".join(("SERVICE web", "FROM nginx", *lines)) + "\n", ctx).services[0]


def host(*lines: str) -> DesiredService:
    """The one host service `web` (RUN ./serve) with `lines` added to its block."""
    return stack("\n".join(("SERVICE web", "RUN ./serve", *lines)) + "\n").services[0]


def errors(text: str, ctx: ProjectContext | None = None) -> list[str]:
    with pytest.raises(InvalidOrchfile) as caught:
        stack(text, ctx)
    return [str(d) for d in caught.value.diagnostics]


def env(service: DesiredService) -> dict[str, str]:
    return {key: value.reveal() for key, value in service.env.items()}


# The stack


def test_the_stack_carries_the_project_namespace_files_and_paths() -> None:
    result = stack("SERVICE web\nFROM nginx\n")

    assert (result.project, result.namespace) == ("demo", "orch")
    assert result.files == (PROJECT_DIR / FILE,)
    assert result.paths.project_dir == PROJECT_DIR
    assert result.paths.state_dir == STATE_DIR


def test_services_keep_their_file_order() -> None:
    result = stack("SERVICE b\nFROM x\nSERVICE a\nRUN y\nSERVICE c\nFROM z\n")

    assert [s.name for s in result.services] == ["b", "a", "c"]


def test_from_makes_a_container_service_and_run_a_host_service() -> None:
    result = stack("SERVICE web\nFROM nginx\nSERVICE job\nRUN ./job.sh\n")

    web, job = result.services
    assert (web.mode, job.mode) == (ServiceMode.CONTAINER, ServiceMode.HOST)
    assert job.command == "./job.sh"


# Defaults from the Orch spec


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("readiness_timeout", timedelta(seconds=90)),
        ("timeout_start", timedelta(seconds=90)),
        ("timeout_stop", timedelta(seconds=10)),
        ("oneshot", False),
        ("disabled", False),
        ("recreate_always", False),
        ("healthcheck", None),
        ("entrypoint", None),
        ("cmd", None),
        ("workdir", None),
    ],
)
def test_an_unwritten_directive_takes_the_spec_default(field: str, expected: object) -> None:
    assert getattr(container(), field) == expected


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("policy", Restart.NO),
        ("delay", timedelta(seconds=1)),
        ("start_limit_burst", 5),
        ("start_limit_interval", timedelta(seconds=10)),
    ],
)
def test_an_unwritten_restart_directive_takes_the_spec_default(
    field: str, expected: object
) -> None:
    assert getattr(container().restart, field) == expected


def test_resources_default_to_no_limits_and_io_weight_100() -> None:
    limits = container().resources

    assert limits.io_weight == 100
    assert (limits.memory_bytes, limits.cpus, limits.tasks_max) == (None, None, None)
    assert (limits.limit_nofile, limits.limit_nproc) == (None, None)


# Values as written


@pytest.mark.parametrize(
    ("line", "field", "expected"),
    [
        ("READINESS_TIMEOUT 5s", "readiness_timeout", timedelta(seconds=5)),
        ("TIMEOUT_START 2m", "timeout_start", timedelta(minutes=2)),
        ("TIMEOUT_STOP 1m30s", "timeout_stop", timedelta(seconds=90)),
        ("TIMEOUT_STOP 30", "timeout_stop", timedelta(seconds=30)),
        ("ONESHOT true", "oneshot", True),
        ("DISABLED true", "disabled", True),
        ("RECREATE always", "recreate_always", True),
        ("RECREATE never", "recreate_always", False),
    ],
)
def test_a_written_value_is_interpreted(line: str, field: str, expected: object) -> None:
    assert getattr(container(line), field) == expected


@pytest.mark.parametrize(
    ("line", "field", "expected"),
    [
        ("RESTART always", "policy", Restart.ALWAYS),
        ("RESTART on-failure", "policy", Restart.ON_FAILURE),
        ("RESTART no", "policy", Restart.NO),
        ("RESTART_DELAY 500ms", "delay", timedelta(milliseconds=500)),
        ("START_LIMIT_BURST 3", "start_limit_burst", 3),
        ("START_LIMIT_INTERVAL 1m", "start_limit_interval", timedelta(minutes=1)),
    ],
)
def test_a_written_restart_value_is_interpreted(line: str, field: str, expected: object) -> None:
    assert getattr(container(line).restart, field) == expected


@pytest.mark.parametrize(
    ("line", "field", "expected"),
    [
        ("MEMORY 512M", "memory_bytes", 512 * 1024 * 1024),
        ("MEMORY 4G", "memory_bytes", 4 * 1024**3),
        ("MEMORY 8388608", "memory_bytes", 8388608),
        ("LIMIT_NOFILE 65536", "limit_nofile", 65536),
        ("LIMIT_NPROC 256", "limit_nproc", 256),
        ("TASKS_MAX 64", "tasks_max", 64),
        ("IO_WEIGHT 500", "io_weight", 500),
    ],
)
def test_a_written_resource_limit_is_interpreted(line: str, field: str, expected: int) -> None:
    assert getattr(container(line).resources, field) == expected


@pytest.mark.parametrize(
    ("lines", "cores"),
    [
        (("CPUS 1.5",), 1.5),
        (("CPU_QUOTA 50%",), 0.5),
        (("CPU_QUOTA 250%",), 2.5),
        (("CPUS 2", "CPU_QUOTA 50%"), 0.5),
        (("CPUS 0.25", "CPU_QUOTA 200%"), 0.25),
    ],
)
def test_cpus_and_cpu_quota_give_the_effective_cores_taking_the_smaller(
    lines: tuple[str, ...], cores: float
) -> None:
    assert container(*lines).resources.cpus == pytest.approx(cores)


# Commands and health checks


@pytest.mark.parametrize(
    ("line", "field", "words"),
    [
        ("CMD serve --port 80", "cmd", ("serve", "--port", "80")),
        ('CMD sh -c "echo hello world"', "cmd", ("sh", "-c", "echo hello world")),
        ("CMD echo 'a  b' c", "cmd", ("echo", "a  b", "c")),
        ("ENTRYPOINT /bin/entry -x", "entrypoint", ("/bin/entry", "-x")),
        ("ENTRYPOINT /bin/sh -c 'exec \"$0\"'", "entrypoint", ("/bin/sh", "-c", 'exec "$0"')),
    ],
)
def test_entrypoint_and_cmd_are_split_into_shell_words(
    line: str, field: str, words: tuple[str, ...]
) -> None:
    assert getattr(container(line), field) == words


def test_shell_variables_in_a_command_are_left_for_the_shell() -> None:
    assert container("CMD sh -c 'echo $HOME ${HOME}'").cmd == ("sh", "-c", "echo $HOME ${HOME}")


def test_an_unbalanced_quote_in_cmd_is_a_located_error() -> None:
    assert errors('SERVICE web\nFROM nginx\nCMD echo "oops\n') == [
        "Orchfile:3: service 'web': CMD cannot be split into words: No closing quotation"
    ]


@pytest.mark.parametrize(
    "url", ["http://localhost:8080/healthz", "https://127.0.0.1/ready", "http://[::1]:80/"]
)
def test_an_http_or_https_healthcheck_is_fetched_as_a_url(url: str) -> None:
    assert container(f"HEALTHCHECK {url}").healthcheck == HttpCheck(url=url)


@pytest.mark.parametrize(
    "command", ["curl -f http://localhost/", "pg_isready -U postgres", "test -e /tmp/http://"]
)
def test_any_other_healthcheck_is_a_command(command: str) -> None:
    assert container(f"HEALTHCHECK {command}").healthcheck == CommandCheck(command=command)


@pytest.mark.parametrize(
    ("url", "host", "port"),
    [("tcp://127.0.0.1:5432", "127.0.0.1", 5432), ("tcp://[::1]:80", "::1", 80)],
)
def test_a_tcp_healthcheck_is_a_connect(url: str, host: str, port: int) -> None:
    check = container(f"HEALTHCHECK {url}").healthcheck
    assert check == TcpCheck(host=host, port=port)
    assert isinstance(check, TcpCheck)
    assert check.url == url


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://host/x", "HEALTHCHECK scheme 'ftp' is not one the reconciler probes"),
        ("tcp://db", "HEALTHCHECK 'tcp://db' must be tcp://HOST:PORT"),
        ("tcp://db:5432/path", "HEALTHCHECK 'tcp://db:5432/path' must be tcp://HOST:PORT"),
        ("tcp://db:99999", "HEALTHCHECK 'tcp://db:99999' is not a valid URL"),
        ("http:///nohost", "HEALTHCHECK 'http:///nohost' names no host"),
    ],
)
def test_a_url_healthcheck_that_cannot_be_probed_is_an_error(url: str, message: str) -> None:
    (error,) = errors(f"SERVICE web\nFROM nginx\nHEALTHCHECK {url}\n")
    assert message in error


# Built-in variables


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("ORCH_PROJECT", str(PROJECT_DIR)),
        ("ORCH_DATA", str(STATE_DIR / "data")),
        ("ORCH_STATE_DIR", str(STATE_DIR)),
        ("ORCH_CONTAINERS_DIR", str(STATE_DIR / "containers")),
        ("SERVICE_NAME", "web"),
        ("PORT_OFFSET", "0"),
        ("CONTAINER_PREFIX", "demo-"),
    ],
)
def test_a_builtin_variable_is_expanded(variable: str, value: str) -> None:
    assert env(container(f"ENV X=<${{{variable}}}>")) == {"X": f"<{value}>"}


def test_port_offset_comes_from_the_project_context() -> None:
    service = container("ENV PORT=80${PORT_OFFSET}", ctx=context(port_offset="10"))

    assert env(service) == {"PORT": "8010"}


def test_service_name_is_each_service_own_name() -> None:
    result = stack(
        "SERVICE api\nFROM x\nENV N=${SERVICE_NAME}\nSERVICE db\nFROM y\nENV N=${SERVICE_NAME}\n"
    )

    assert [env(s) for s in result.services] == [{"N": "api"}, {"N": "db"}]


@pytest.mark.parametrize("text", ["${HOME}", "${UNDEFINED_THING}", "$ORCH_DATA", "${}"])
def test_a_variable_that_is_not_a_builtin_is_left_as_written(text: str) -> None:
    assert env(container(f"ENV X={text}")) == {"X": text}


def test_builtins_are_expanded_in_env_keys() -> None:
    assert env(container("ENV ${SERVICE_NAME}_HOME=/x")) == {"web_HOME": "/x"}


@pytest.mark.parametrize(
    ("line", "field", "expected"),
    [
        ("CMD --data ${ORCH_DATA}", "cmd", ("--data", str(STATE_DIR / "data"))),
        ("ENTRYPOINT /bin/${SERVICE_NAME}", "entrypoint", ("/bin/web",)),
        ("WORKDIR /srv/${SERVICE_NAME}", "workdir", "/srv/web"),
        (
            "HEALTHCHECK check ${SERVICE_NAME}",
            "healthcheck",
            CommandCheck(command="check web"),
        ),
        ("STDOUT ${ORCH_DATA}/out.log", "stdout", STATE_DIR / "data" / "out.log"),
    ],
)
def test_builtins_are_expanded_in_every_value(line: str, field: str, expected: object) -> None:
    assert getattr(container(line), field) == expected


def test_builtins_are_expanded_in_the_image_reference() -> None:
    service = stack("SERVICE web\nFROM registry.local/${SERVICE_NAME}:1\n").services[0]

    assert service.image == RegistryImage(reference="registry.local/web:1")


def test_env_values_stay_secret_in_the_stack() -> None:
    result = stack("SERVICE web\nFROM nginx\nENV TOKEN=sk_live_abcdef\n")

    assert "sk_live_abcdef" not in repr(result)
    assert env(result.services[0]) == {"TOKEN": "sk_live_abcdef"}


# Paths


@pytest.mark.parametrize(
    ("written", "resolved"),
    [
        ("./sub", PROJECT_DIR / "sub"),
        ("sub/dir", PROJECT_DIR / "sub" / "dir"),
        ("../other", Path("/srv/other")),
        (".", PROJECT_DIR),
        ("/opt/app", Path("/opt/app")),
    ],
)
def test_a_host_workdir_is_resolved_against_the_project_folder(
    written: str, resolved: Path
) -> None:
    assert host(f"WORKDIR {written}").workdir == str(resolved)


def test_a_container_workdir_is_kept_as_an_absolute_path_inside_the_container() -> None:
    assert container("WORKDIR /app").workdir == "/app"


def test_a_relative_container_workdir_is_a_located_error() -> None:
    assert errors("SERVICE web\nFROM nginx\nWORKDIR app\n") == [
        "Orchfile:3: service 'web': WORKDIR 'app' must be an absolute path in a container"
    ]


def test_env_files_are_resolved_against_the_project_folder_in_order() -> None:
    service = container(
        "ENV_FILE ./a.env", "ENV_FILE b.env", "ENV_FILE ../c.env", "ENV_FILE /d.env"
    )

    assert service.env_files == (
        PROJECT_DIR / "a.env",
        PROJECT_DIR / "b.env",
        Path("/srv/c.env"),
        Path("/d.env"),
    )


@pytest.mark.parametrize(
    ("source", "resolved"),
    [
        ("./data", PROJECT_DIR / "data"),
        ("../shared", Path("/srv/shared")),
        ("/var/data", Path("/var/data")),
        ("${ORCH_DATA}/pg", STATE_DIR / "data" / "pg"),
        ("${ORCH_PROJECT}/conf", PROJECT_DIR / "conf"),
    ],
)
def test_a_volume_with_a_path_source_is_a_bind_mount_of_the_resolved_path(
    source: str, resolved: Path
) -> None:
    assert container(f"VOLUME {source}:/mnt").volumes == (
        BindMount(source=resolved, destination="/mnt"),
    )


def test_a_named_volume_lives_under_the_project_state_dir() -> None:
    assert container("VOLUME pgdata:/var/lib/postgresql").volumes == (
        NamedVolume(
            name="pgdata",
            host_path=STATE_ROOT / "projects" / "orch" / "demo" / "volumes" / "pgdata",
            destination="/var/lib/postgresql",
        ),
    )


def test_volumes_keep_their_written_order() -> None:
    volumes = container("VOLUME a:/a", "VOLUME ./b:/b", "VOLUME c:/c").volumes

    assert [v.destination for v in volumes] == ["/a", "/b", "/c"]


def test_a_volume_source_that_does_not_expand_to_a_path_is_a_located_error() -> None:
    assert errors("SERVICE web\nFROM nginx\nVOLUME ${NOT_SET}:/data\n") == [
        "Orchfile:3: service 'web': VOLUME source '${NOT_SET}' does not expand to a path"
    ]


def test_a_relative_volume_destination_is_a_located_error() -> None:
    (message,) = errors("SERVICE web\nFROM nginx\nVOLUME data:relative\n")

    assert message.startswith("Orchfile:3: service 'web': VOLUME destination 'relative'")


@pytest.mark.parametrize("source", ["~/data", "my data", "data/sub"])
def test_a_named_volume_with_an_unusable_name_is_a_located_error(source: str) -> None:
    (error,) = errors(f"SERVICE web\nFROM nginx\nVOLUME {source}:/data\n")

    assert error.startswith(f"Orchfile:3: service 'web': VOLUME name '{source}'")


@pytest.mark.parametrize(
    ("written", "resolved"),
    [
        ("./image", PROJECT_DIR / "image"),
        ("./images/web.tar", PROJECT_DIR / "images" / "web.tar"),
        ("../images/web.tar", Path("/srv/images/web.tar")),
        ("/opt/images/web", Path("/opt/images/web")),
    ],
)
def test_a_local_image_path_is_resolved_against_the_project_folder(
    written: str, resolved: Path
) -> None:
    service = stack(f"SERVICE web\nFROM {written}\n").services[0]

    assert service.image == LocalImage(path=resolved, written_as=written)


@pytest.mark.parametrize(
    "reference", ["nginx", "localhost:5000/web:1", "docker.io/library/busybox@sha256:" + "a" * 64]
)
def test_any_other_image_is_a_registry_reference(reference: str) -> None:
    service = stack(f"SERVICE web\nFROM {reference}\n").services[0]

    assert service.image == RegistryImage(reference=reference)


def test_a_host_service_has_no_image() -> None:
    assert host().image is None


def test_stdout_and_stderr_default_to_the_project_log_folder() -> None:
    service = container()

    assert service.stdout == STATE_DIR / "logs" / "web.log"
    assert service.stderr == STATE_DIR / "logs" / "web.err"


@pytest.mark.parametrize(
    ("written", "resolved"),
    [
        ("out.log", PROJECT_DIR / "out.log"),
        ("./logs/out.log", PROJECT_DIR / "logs" / "out.log"),
        ("../out.log", Path("/srv/out.log")),
        ("/var/log/web.log", Path("/var/log/web.log")),
    ],
)
def test_stdout_and_stderr_are_resolved_against_the_project_folder(
    written: str, resolved: Path
) -> None:
    service = container(f"STDOUT {written}", f"STDERR {written}.err")

    assert service.stdout == resolved
    assert service.stderr == resolved.with_name(resolved.name + ".err")


# Unusable values


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("MEMORY 12Q", "MEMORY '12Q' is not a size"),
        ("MEMORY 0", "MEMORY '0' is out of range: at least 6M"),
        ("MEMORY 1", "MEMORY '1' is out of range: at least 6M"),
        ("MEMORY 99999999999T", "MEMORY '99999999999T' is out of range: at least 6M"),
        ("MEMORY " + "9" * 400, "MEMORY '" + "9" * 400 + "' is out of range"),
        ("CPUS 1e308", "CPUS '1e+308' is more than the kernel's CPU quota allows"),
        ("CPU_QUOTA 99999999999999%", "CPU_QUOTA '99999999999999%' is more than the kernel's"),
        ("CPU_QUOTA lots", "CPU_QUOTA 'lots' is not a percentage"),
        ("CPU_QUOTA 0%", "CPU_QUOTA '0%' must be more than 0%"),
        ("CPUS 0", "CPUS '0' must be a positive number of cores"),
        ("CPUS -1", "CPUS '-1' must be a positive number of cores"),
        ("READINESS_TIMEOUT soon", "READINESS_TIMEOUT 'soon' is not a duration"),
        ("RESTART_DELAY 1x", "RESTART_DELAY '1x' is not a duration"),
        ("START_LIMIT_INTERVAL 10 s", "START_LIMIT_INTERVAL '10 s' is not a duration"),
        ("TIMEOUT_START forever", "TIMEOUT_START 'forever' is not a duration"),
        ("TIMEOUT_STOP 400d", "TIMEOUT_STOP '400d' is longer than a year"),
        ("START_LIMIT_BURST 0", "START_LIMIT_BURST must be at least 1, got 0"),
        ("LIMIT_NOFILE 0", "LIMIT_NOFILE must be at least 1, got 0"),
        ("LIMIT_NPROC 0", "LIMIT_NPROC must be at least 1, got 0"),
        ("TASKS_MAX 0", "TASKS_MAX must be at least 1, got 0"),
        ("TASKS_MAX 5000000", "TASKS_MAX must be at most 4194304, got 5000000"),
        ("LIMIT_NOFILE 18446744073709551615", "LIMIT_NOFILE must be at most"),
    ],
)
def test_an_unusable_value_is_an_error_naming_file_line_service_and_directive(
    line: str, message: str
) -> None:
    (error,) = errors(f"# comment\nSERVICE web\nFROM nginx\n\n{line}\n")

    assert error.startswith(f"Orchfile:5: service 'web': {message}")


@pytest.mark.parametrize("line", ["CPUS nan", "CPUS inf"])
def test_a_cpus_value_that_is_not_finite_is_a_located_error(line: str) -> None:
    (error,) = errors(f"SERVICE web\nFROM nginx\n{line}\n")

    assert error.startswith("Orchfile:3: service 'web': CPUS")


@pytest.mark.parametrize("value", ["99999999999999999999999d", "99999999999999999999999"])
def test_an_astronomically_long_duration_is_a_located_error_not_a_crash(value: str) -> None:
    (error,) = errors(f"SERVICE web\nFROM nginx\nTIMEOUT_STOP {value}\n")

    assert error.startswith(f"Orchfile:3: service 'web': TIMEOUT_STOP '{value}'")


def test_the_error_carries_its_location_as_data() -> None:
    with pytest.raises(InvalidOrchfile) as caught:
        stack("SERVICE web\nFROM nginx\nMEMORY 12Q\n")

    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.location == Location(file=FILE, line=3)


def test_an_error_shows_the_value_after_builtin_expansion() -> None:
    (error,) = errors("SERVICE web\nFROM nginx\nTIMEOUT_STOP ${SERVICE_NAME}\n")

    assert "TIMEOUT_STOP 'web' is not a duration" in error


def test_every_unusable_value_of_every_service_is_reported_together_sorted_by_line() -> None:
    text = (
        "SERVICE web\n"  # 1
        "FROM nginx\n"  # 2
        "MEMORY 12Q\n"  # 3
        "TIMEOUT_STOP soon\n"  # 4
        "CPU_QUOTA half\n"  # 5
        "READINESS_TIMEOUT later\n"  # 6
        "SERVICE db\n"  # 7
        "FROM postgres\n"  # 8
        "RESTART_DELAY x\n"  # 9
        "TASKS_MAX 0\n"  # 10
    )

    assert [error.split(": ", 2)[:2] for error in errors(text)] == [
        ["Orchfile:3", "service 'web'"],
        ["Orchfile:4", "service 'web'"],
        ["Orchfile:5", "service 'web'"],
        ["Orchfile:6", "service 'web'"],
        ["Orchfile:9", "service 'db'"],
        ["Orchfile:10", "service 'db'"],
    ]


def test_an_unusable_value_written_in_an_overlay_names_the_overlay_file_and_line() -> None:
    base = SourceFile(name=FILE, text="SERVICE web\nFROM nginx\nMEMORY 512M\n")
    overlay = SourceFile(name="dev.orch", text="# dev\nSERVICE web\nMEMORY 12Q\n")
    document = load_sources([base, overlay], {}, {})

    with pytest.raises(InvalidOrchfile) as caught:
        desired_stack(document, context())

    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.location == Location(file="dev.orch", line=3)


# Container ids


@pytest.mark.parametrize("name", ["web--api", "web-"])
def test_a_service_whose_container_id_is_not_a_valid_containerd_id_is_an_error(
    name: str,
) -> None:
    (error,) = errors(f"SERVICE {name}\nFROM nginx\n")

    assert error.startswith(f"Orchfile:1: service '{name}': container id 'demo-{name}'")


def test_a_container_id_of_76_characters_is_accepted() -> None:
    ctx = context(project="p" * 12)
    name = "s" * 63

    assert stack(f"SERVICE {name}\nFROM nginx\n", ctx).services[0].name == name


def test_a_container_id_longer_than_76_characters_is_an_error() -> None:
    ctx = context(project="p" * 20)
    name = "s" * 60

    (error,) = errors(f"SERVICE {name}\nFROM nginx\n", ctx)

    assert error.startswith(f"Orchfile:1: service '{name}': container id '{'p' * 20}-{name}'")
    assert "76" in error


# Project names


@pytest.mark.parametrize(
    ("folder", "project"),
    [
        ("demo", "demo"),
        ("MyApp", "myapp"),
        ("my_app", "my-app"),
        ("My App.v2", "my-app-v2"),
        ("shop-2024", "shop-2024"),
    ],
)
def test_the_default_project_name_is_the_first_file_folder_made_safe(
    tmp_path: Path, folder: str, project: str
) -> None:
    assert default_project_name(tmp_path / folder / "Orchfile") == project


@pytest.mark.parametrize(("folder", "project"), [("a__b", "a-b"), ("_app_", "app")])
def test_the_default_project_name_is_a_valid_containerd_id_prefix(
    tmp_path: Path, folder: str, project: str
) -> None:
    name = default_project_name(tmp_path / folder / "Orchfile")

    assert name == project
    assert project_name_error(name) is None


def test_a_folder_name_without_usable_characters_gives_the_project_default(
    tmp_path: Path,
) -> None:
    assert default_project_name(tmp_path / "___" / "Orchfile") == "default"


def test_a_relative_first_file_takes_the_name_of_the_folder_it_is_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "Shop").mkdir()
    monkeypatch.chdir(tmp_path / "Shop")

    assert default_project_name(Path("Orchfile")) == "shop"


@pytest.mark.parametrize("name", ["demo", "my-app", "a1", "1a", "a-b-c"])
def test_a_project_name_of_lowercase_words_joined_by_single_dashes_is_valid(name: str) -> None:
    assert project_name_error(name) is None


@pytest.mark.parametrize("name", ["", "Demo", "my_app", "a--b", "-a", "a-", "my app", "a.b"])
def test_any_other_project_name_is_an_error_naming_it(name: str) -> None:
    error = project_name_error(name)

    assert error is not None
    assert f"'{name}'" in error


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("RUN echo a\x00b", "RUN contains a NUL byte"),
        ("RUN ./serve\nENV TOKEN=se\x00cret", "ENV TOKEN: contains a NUL byte"),
        ("RUN ./serve\nWORKDIR /srv/\x00", "WORKDIR contains a NUL byte"),
    ],
)
def test_a_nul_byte_no_process_could_be_given_is_an_error(line: str, message: str) -> None:
    (error,) = errors(f"SERVICE web\n{line}\n")
    assert message in error
    assert "cret" not in error
