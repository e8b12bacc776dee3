"""The CNI invoker, against fake plugins that record what they were given: ADD chains
each plugin's result into the next, DEL runs in reverse with the kept result, a plugin
sees only the runtime configuration it declares, and a failure names the plugin."""

from __future__ import annotations

import asyncio
import json
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from reconciler.clock import SystemClock
from reconciler.drivers.containerd.network.cni import Cni, plugin_input
from reconciler.errors import MissingBinary, RuntimeFailure

CONFLIST: dict[str, Any] = {
    "cniVersion": "1.0.0",
    "name": "orch-t-p",
    "plugins": [
        {"type": "first", "setting": 1},
        {"type": "second", "capabilities": {"portMappings": True}},
    ],
}
RUNTIME = {"portMappings": [{"hostPort": 8080, "containerPort": 80, "protocol": "tcp"}]}

PLUGIN = f"""\
#!{sys.executable}
import json, os, sys
data = json.load(sys.stdin)
log = os.path.join(os.path.dirname(sys.argv[0]), "calls.jsonl")
env = {{k: v for k, v in os.environ.items() if k.startswith("CNI_") or k == "PATH"}}
with open(log, "a") as out:
    out.write(json.dumps({{"plugin": data["type"], "env": env, "stdin": data}}) + "\\n")
if os.environ.get("CNI_COMMAND") == "ADD":
    previous = data.get("prevResult", {{"cniVersion": "1.0.0", "interfaces": []}})
    previous["interfaces"].append({{"name": data["type"]}})
    print(json.dumps(previous))
"""


def plugins(folder: Path, *, failing: str | None = None) -> Path:
    folder.mkdir()
    for kind in ("first", "second"):
        script = folder / kind
        if kind == failing:
            script.write_text(
                textwrap.dedent("""\
                    #!/bin/sh
                    echo '{"cniVersion": "1.0.0", "code": 7, "msg": "no room", "details": "x"}'
                    exit 1
                    """)
            )
        else:
            script.write_text(PLUGIN)
        script.chmod(0o755)
    return folder


def calls(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (folder / "calls.jsonl").read_text().splitlines()]


def test_a_plugin_gets_the_lists_version_and_name_and_only_its_capabilities() -> None:
    first = plugin_input(CONFLIST, CONFLIST["plugins"][0], prev_result=None, runtime_config=RUNTIME)
    assert first == {"type": "first", "setting": 1, "cniVersion": "1.0.0", "name": "orch-t-p"}
    second = plugin_input(
        CONFLIST, CONFLIST["plugins"][1], prev_result={"ips": []}, runtime_config=RUNTIME
    )
    assert second["runtimeConfig"] == RUNTIME
    assert second["prevResult"] == {"ips": []}


def test_add_chains_results_and_del_runs_in_reverse_with_the_kept_result(tmp_path: Path) -> None:
    folder = plugins(tmp_path / "bin")
    cni = Cni(clock=SystemClock(), plugin_dirs=[folder], tools_dir=tmp_path / "tools")
    netns = Path("/run/netns/orch-t--p-web")

    result = asyncio.run(
        cni.add(CONFLIST, container_id="p-web", netns=netns, ifname="eth0", runtime_config=RUNTIME)
    )
    assert result["interfaces"] == [{"name": "first"}, {"name": "second"}]
    asyncio.run(
        cni.delete(
            CONFLIST,
            container_id="p-web",
            netns=None,
            ifname="eth0",
            runtime_config=RUNTIME,
            result=result,
        )
    )

    seen = calls(folder)
    assert [(c["plugin"], c["env"]["CNI_COMMAND"]) for c in seen] == [
        ("first", "ADD"),
        ("second", "ADD"),
        ("second", "DEL"),
        ("first", "DEL"),
    ]
    assert seen[0]["env"]["CNI_NETNS"] == str(netns)
    assert seen[0]["env"]["CNI_CONTAINERID"] == "p-web"
    assert seen[0]["env"]["CNI_IFNAME"] == "eth0"
    assert seen[0]["env"]["CNI_PATH"] == str(folder)
    # Only iptables on the PATH: no ip6tables for an IPv4 network.
    assert seen[0]["env"]["PATH"] == str(tmp_path / "tools")
    assert [p.name for p in (tmp_path / "tools").iterdir()] == ["iptables"]
    assert seen[1]["stdin"]["prevResult"]["interfaces"] == [{"name": "first"}]
    assert seen[2]["env"]["CNI_NETNS"] == ""  # DEL without the namespace
    assert seen[3]["stdin"]["prevResult"] == result


def test_a_failing_plugin_is_one_error_naming_it_and_its_message(tmp_path: Path) -> None:
    cni = Cni(
        clock=SystemClock(),
        plugin_dirs=[plugins(tmp_path / "bin", failing="second")],
        tools_dir=tmp_path / "tools",
    )
    with pytest.raises(RuntimeFailure, match=r"CNI second ADD for p-web: no room: x"):
        asyncio.run(
            cni.add(
                CONFLIST,
                container_id="p-web",
                netns=Path("/x"),
                ifname="eth0",
                runtime_config={},
            )
        )


def test_a_missing_plugin_names_the_package(tmp_path: Path) -> None:
    cni = Cni(clock=SystemClock(), plugin_dirs=[tmp_path])
    with pytest.raises(MissingBinary, match="containernetworking-plugins"):
        cni.require_plugins(["first"])
