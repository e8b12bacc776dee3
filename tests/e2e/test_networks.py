"""Each project on its own bridge: PUBLISH with any mapping, services found by name, the
host found by its name, loopback checks made inside, `--network host` as orchd runs.

Everything is checked from outside as a user would: `curl` on loopback and on the host's
own address, `wget` run inside the containers with `ctr tasks exec`, `ip netns`, `ip
link`, `iptables -t nat -S`. Every test ends with `down`, `leak-check` and a census of
the namespace's network objects that must be empty (the `run` fixture).
"""

from __future__ import annotations

import json
import secrets
import signal
import socket
import subprocess
from pathlib import Path

import pytest

from tests.support.network_census import bridge_name, namespaces, nat_rules, network_objects
from tests.support.polling import eventually
from tests.support.run_process import RunProcess

WEB = """\
SERVICE {name}
  FROM ./img
  CMD sh -c 'mkdir -p /www && echo "{text}" > /www/index.html && exec httpd -f -p {listen} -h /www'
  TIMEOUT_STOP 1s
"""
IDLE = "SERVICE {name}\n  FROM ./img\n  CMD sleep 1000\n  TIMEOUT_STOP 1s\n"


def web(name: str, text: str, *lines: str, listen: str = "80") -> str:
    return WEB.format(name=name, text=text, listen=listen) + "".join(f"  {x}\n" for x in lines)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("0.0.0.0", 0))
        port: int = probe.getsockname()[1]
    return port


def host_address() -> str:
    done = subprocess.run(
        ["ip", "-j", "-4", "addr", "show", "scope", "global"],
        capture_output=True,
        text=True,
        check=True,
    )
    for link in json.loads(done.stdout):
        for address in link.get("addr_info", ()):
            if not link["ifname"].startswith(("orch-", "veth", "cni", "docker", "podman")):
                return str(address["local"])
    raise AssertionError("this host has no global IPv4 address")


def curl(url: str) -> str | None:
    done = subprocess.run(
        ["curl", "-s", "-m", "5", "--noproxy", "*", url],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() if done.returncode == 0 else None


def inside(run: RunProcess, service: str, *command: str) -> str:
    """Run `command` in the service's container, as `ctr tasks exec` does."""
    assert run.containerd is not None
    return run.containerd.ctr(
        "tasks",
        "exec",
        "--exec-id",
        f"t{secrets.token_hex(4)}",
        f"{run.project}-{service}",
        *command,
    ).strip()


def fetch_inside(run: RunProcess, service: str, url: str) -> str:
    # Not `wget -T`: Debian's busybox 1.35 wget crashes with it.
    return inside(run, service, "timeout", "5", "wget", "-q", "-O-", url)


def apply(run: RunProcess, *flags: str) -> subprocess.CompletedProcess[str]:
    done = run.cli("apply", "--wait", "--timeout", "60s", *flags)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def test_two_services_on_port_80_are_published_on_their_own_host_ports(run: RunProcess) -> None:
    public, local = free_port(), free_port()
    run.orchfile.write_text(
        web("a", "from a", f"PUBLISH {public}:80", "HEALTHCHECK http://127.0.0.1/")
        + web("b", "from b", f"PUBLISH 127.0.0.1:{local}:80")
        + IDLE.format(name="probe")
    )
    apply(run)
    host = host_address()

    assert curl(f"http://127.0.0.1:{public}/") == "from a"
    assert curl(f"http://{host}:{public}/") == "from a"
    assert curl(f"http://127.0.0.1:{local}/") == "from b"
    assert curl(f"http://{host}:{local}/") is None  # published on loopback only
    assert fetch_inside(run, "probe", f"http://{host}:{public}/") == "from a"
    assert namespaces(run.namespace) == [f"orch-{run.namespace}--app-{s}" for s in "ab"] + [
        f"orch-{run.namespace}--app-probe"
    ]
    dnat = [rule for rule in nat_rules(run.namespace) if "dnat name" in rule]
    assert len(dnat) == 2
    assert run.service("a")["health"] == "healthy"


def test_services_find_each_other_by_name_before_and_after_a_recreate(run: RunProcess) -> None:
    run.orchfile.write_text(web("b", "first") + IDLE.format(name="a"))
    apply(run)
    assert fetch_inside(run, "a", "http://b/") == "first"
    assert fetch_inside(run, "a", "http://b.app/") == "first"
    address_before = inside(run, "a", "sh", "-c", "grep -w b /etc/hosts")

    run.orchfile.write_text(web("b", "second") + IDLE.format(name="a"))
    done = apply(run)

    assert "recreate b: config changed (cmd)" in done.stdout + done.stderr
    assert fetch_inside(run, "a", "http://b/") == "second"
    assert inside(run, "a", "sh", "-c", "grep -w b /etc/hosts") != address_before
    assert inside(run, "b", "hostname") == "b"


@pytest.fixture
def host_site(tmp_path: Path) -> tuple[Path, int]:
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("from the host\n")
    return site, free_port()


def test_a_container_reaches_a_host_service_by_the_host_name(
    run: RunProcess, host_site: tuple[Path, int]
) -> None:
    site, port = host_site
    run.orchfile.write_text(
        f"SERVICE clock\n  RUN busybox httpd -f -p {port} -h {site}\n  TIMEOUT_STOP 1s\n"
        + IDLE.format(name="worker")
    )
    apply(run)
    eventually(lambda: curl(f"http://127.0.0.1:{port}/") is not None, timeout=10, what="clock")

    assert fetch_inside(run, "worker", f"http://host.orch.internal:{port}/") == "from the host"


def test_a_loopback_check_probes_the_containers_own_namespace(run: RunProcess) -> None:
    run.orchfile.write_text(
        web("a", "a", "HEALTHCHECK http://localhost/", listen="127.0.0.1:80")
        + web("b", "b", "HEALTHCHECK tcp://127.0.0.1:80", listen="127.0.0.1:80")
    )
    apply(run)

    assert run.service("a")["health"] == "healthy"
    assert run.service("b")["health"] == "healthy"


def test_a_taken_host_port_fails_that_service_alone_before_anything_is_made(
    run: RunProcess,
) -> None:
    with socket.socket() as holder:
        holder.bind(("0.0.0.0", 0))
        holder.listen()
        port = holder.getsockname()[1]
        run.orchfile.write_text(web("web", "w", f"PUBLISH {port}:80") + IDLE.format(name="other"))

        done = run.cli("apply", "--wait", "--timeout", "30s")

        assert done.returncode == 1
        said = done.stdout + done.stderr
        assert f"web: failed (PUBLISH: host port {port} is in use by pid " in said, said
        assert "Traceback" not in said
        assert run.running("other")
        assert run.containers() == ["app-other"]
        assert namespaces(run.namespace) == [f"orch-{run.namespace}--app-other"]

    apply(run)
    assert curl(f"http://127.0.0.1:{port}/") == "w"


def test_the_same_host_port_in_two_services_is_refused_by_validate(run: RunProcess) -> None:
    port = free_port()
    run.orchfile.write_text(
        web("a", "a", f"PUBLISH {port}:80") + web("b", "b", f"PUBLISH {port}:81")
    )
    done = run.cli("validate")
    assert done.returncode == 1
    assert f"service 'b': PUBLISH {port}:81: host port {port} is published by service 'a'" in (
        done.stderr
    )


def test_host_mode_refuses_a_remap_runs_the_rest_in_the_hosts_network_and_switching_recreates(
    run: RunProcess,
) -> None:
    port = free_port()
    run.orchfile.write_text(web("web", "w", f"PUBLISH 18{port % 1000:03d}:80"))
    refused = run.cli("validate", "--network", "host")
    assert refused.returncode == 1
    assert "remaps a port, which needs the project network" in refused.stderr

    run.orchfile.write_text(web("web", "w", f"PUBLISH {port}:{port}", listen=str(port)))
    apply(run, "--network", "host")
    pid = run.pids("web")["web"]
    assert Path(f"/proc/{pid}/ns/net").readlink() == Path("/proc/self/ns/net").readlink()
    assert namespaces(run.namespace) == []
    assert curl(f"http://127.0.0.1:{port}/") == "w"

    done = apply(run)

    assert "recreate web: config changed (network)" in done.stdout + done.stderr
    pid = run.pids("web")["web"]
    assert Path(f"/proc/{pid}/ns/net").readlink() != Path("/proc/self/ns/net").readlink()
    assert curl(f"http://127.0.0.1:{port}/") == "w"


def test_a_killed_apply_leaves_only_what_the_next_apply_or_down_clears(run: RunProcess) -> None:
    names = [f"s{index}" for index in range(8)]
    run.orchfile.write_text("".join(web(name, name, f"PUBLISH {free_port()}:80") for name in names))
    child = subprocess.Popen(
        run.command("apply"), env=run.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    eventually(lambda: len(namespaces(run.namespace)) >= 2, timeout=60, what="apply under way")
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)

    apply(run)
    assert len(namespaces(run.namespace)) == len(names)
    assert len([r for r in nat_rules(run.namespace) if "dnat name" in r]) == len(names)

    child = subprocess.Popen(
        run.command("down", "--timeout", "1s"),
        env=run.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    eventually(
        lambda: len(namespaces(run.namespace)) < len(names), timeout=60, what="down under way"
    )
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    # The `run` fixture's `down` finishes it: nothing may be left (checked there).


def test_two_projects_get_their_own_subnets_and_keep_them(run: RunProcess, tmp_path: Path) -> None:
    other_dir = tmp_path / "other"
    other_dir.mkdir()
    (other_dir / "img").symlink_to(run.directory / "img")
    other = RunProcess(
        other_dir, run.containerd, run.state, namespace=run.namespace, project="other"
    )
    run.orchfile.write_text(IDLE.format(name="a"))
    other.orchfile.write_text(IDLE.format(name="a"))
    apply(run)
    try:
        apply(other)
        ours = inside(run, "a", "sh", "-c", "grep -w a /etc/hosts | cut -f1")
        theirs = inside(other, "a", "sh", "-c", "grep -w a /etc/hosts | cut -f1")
        assert ours.rsplit(".", 1)[0] != theirs.rsplit(".", 1)[0]
        assert bridge_name(run.namespace, "app") != bridge_name(run.namespace, "other")
        subnet = run.state / "projects" / run.namespace / "app" / "network" / "network.json"
        recorded = json.loads(subnet.read_text())["subnet"]

        assert run.cli("down", "--timeout", "1s").returncode == 0
        apply(run)
        assert json.loads(subnet.read_text())["subnet"] == recorded
    finally:
        assert other.cli("down", "--timeout", "1s").returncode == 0
        assert network_objects(run.state, run.namespace, ["other"], only_projects=True) == []


def test_the_network_flag_of_an_apply_through_run_must_match_runs(run: RunProcess) -> None:
    run.orchfile.write_text(IDLE.format(name="a"))
    run.start()
    run.wait_running("a")
    done = run.cli("apply", "--network", "host")
    assert done.returncode == 1
    assert "--network bridge; apply was given --network host" in done.stderr


def test_a_network_broken_by_hand_is_set_up_again_when_the_task_next_starts(
    run: RunProcess,
) -> None:
    port = free_port()
    run.orchfile.write_text(
        web("a", "from a", f"PUBLISH {port}:80", "RESTART always") + IDLE.format(name="probe")
    )
    apply(run)
    record = run.state / "projects" / run.namespace / "app" / "network" / "attachments"
    veth = json.loads((record / "app-a.json").read_text())["result"]["interfaces"][1]["name"]
    subprocess.run(["ip", "link", "delete", veth], check=True)
    assert curl(f"http://127.0.0.1:{port}/") is None
    assert run.containerd is not None
    run.containerd.ctr("tasks", "kill", "-s", "KILL", "app-a")
    eventually(lambda: run.tasks()["app-a"][1] == "STOPPED", timeout=10, what="a killed")

    done = apply(run)

    assert "fails its network CHECK" in done.stderr
    assert curl(f"http://127.0.0.1:{port}/") == "from a"
    assert fetch_inside(run, "probe", "http://a/") == "from a"
