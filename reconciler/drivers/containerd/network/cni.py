"""Invoking CNI plugins as the CNI specification says: ADD, CHECK and DEL of a conflist.

Why this exists: the plugins are programs (Debian's `containernetworking-plugins`) that
take their configuration on stdin and the operation in environment variables; a small
invoker is all a runtime needs (containerd's `ctr run --cni` and nerdctl do the same with
libcni). For a configuration list:
* ADD runs the plugins in order, each given the previous one's result (`prevResult`);
  the last result is the attachment's, and is kept for DEL and CHECK;
* DEL runs them in reverse order, each given that kept result; it is idempotent (a
  plugin whose state is gone succeeds), and may run without the namespace;
* CHECK runs them in order with the kept result.
A plugin receives only the runtime configuration it declares in `capabilities`
(`portMappings` for portmap). A failing plugin prints `{"code", "msg"}` on stdout and
exits non-zero; that becomes one `RuntimeFailure` naming the plugin and its message.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

from reconciler.clock import Clock
from reconciler.errors import MissingBinary, RuntimeFailure

PLUGIN_DIRS: Final = (Path("/usr/lib/cni"), Path("/opt/cni/bin"))
PLUGIN_TIMEOUT: Final = 60.0
# What the plugins find on their PATH: `iptables` alone. The network is IPv4, and
# portmap's DEL tears down IPv6 chains too whenever it finds `ip6tables` (ones it never
# made here): without it, a DEL takes about 40 % less time.
TOOLS_DIR: Final = Path("/run/reconciler/cni-tools")
TOOLS: Final = ("iptables",)

Conf = Mapping[str, Any]


def plugin_input(
    conflist: Conf,
    plugin: Conf,
    *,
    prev_result: Conf | None,
    runtime_config: Conf,
) -> dict[str, Any]:
    """What one plugin of `conflist` reads on stdin (the spec's section on lists)."""
    data: dict[str, Any] = {
        **plugin,
        "cniVersion": conflist["cniVersion"],
        "name": conflist["name"],
    }
    capabilities = plugin.get("capabilities", {})
    wanted = {k: v for k, v in runtime_config.items() if capabilities.get(k)}
    if wanted:
        data["runtimeConfig"] = wanted
    if prev_result is not None:
        data["prevResult"] = prev_result
    return data


class Cni:
    def __init__(
        self,
        *,
        clock: Clock,
        plugin_dirs: Sequence[Path] = PLUGIN_DIRS,
        tools_dir: Path = TOOLS_DIR,
    ) -> None:
        self._clock = clock
        self._dirs = tuple(plugin_dirs)
        self._tools_dir = tools_dir
        self._path: str | None = None

    def require_plugins(self, kinds: Iterable[str]) -> None:
        """Raise `MissingBinary` naming the package unless every plugin is installed."""
        for kind in kinds:
            self._find(kind)

    async def add(
        self,
        conflist: Conf,
        *,
        container_id: str,
        netns: Path,
        ifname: str,
        runtime_config: Conf,
    ) -> dict[str, Any]:
        result: dict[str, Any] | None = None
        for plugin in conflist["plugins"]:
            stdin = plugin_input(
                conflist, plugin, prev_result=result, runtime_config=runtime_config
            )
            result = await self._run("ADD", stdin, container_id, netns, ifname)
        if result is None:
            raise RuntimeFailure(f"CNI network {conflist['name']}: no plugins")
        return result

    async def check(
        self,
        conflist: Conf,
        *,
        container_id: str,
        netns: Path,
        ifname: str,
        runtime_config: Conf,
        result: Conf,
    ) -> None:
        for plugin in conflist["plugins"]:
            stdin = plugin_input(
                conflist, plugin, prev_result=result, runtime_config=runtime_config
            )
            await self._run("CHECK", stdin, container_id, netns, ifname)

    async def delete(
        self,
        conflist: Conf,
        *,
        container_id: str,
        netns: Path | None,
        ifname: str,
        runtime_config: Conf,
        result: Conf | None,
    ) -> None:
        for plugin in reversed(conflist["plugins"]):
            stdin = plugin_input(
                conflist, plugin, prev_result=result, runtime_config=runtime_config
            )
            await self._run("DEL", stdin, container_id, netns, ifname)

    async def _run(
        self,
        command: str,
        stdin: Conf,
        container_id: str,
        netns: Path | None,
        ifname: str,
    ) -> dict[str, Any]:
        kind = str(stdin["type"])
        binary = self._find(kind)
        env = {
            "CNI_COMMAND": command,
            "CNI_CONTAINERID": container_id,
            "CNI_NETNS": str(netns) if netns is not None else "",
            "CNI_IFNAME": ifname,
            "CNI_PATH": os.pathsep.join(str(d) for d in self._dirs),
            "PATH": self._plugin_path(),
        }
        process = await asyncio.create_subprocess_exec(
            str(binary),
            env=env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            out, err = await self._clock.wait_for(
                process.communicate(json.dumps(stdin).encode()), PLUGIN_TIMEOUT
            )
        except TimeoutError:
            process.kill()
            await process.wait()
            raise RuntimeFailure(
                f"CNI {kind} {command} for {container_id} did not finish within {PLUGIN_TIMEOUT:g}s"
            ) from None
        if process.returncode != 0:
            raise RuntimeFailure(f"CNI {kind} {command} for {container_id}: {_message(out, err)}")
        if command != "ADD" or not out.strip():
            return {}
        try:
            parsed: dict[str, Any] = json.loads(out)
        except json.JSONDecodeError as error:
            raise RuntimeFailure(f"CNI {kind} ADD answered nonsense: {error}") from error
        return parsed

    def _plugin_path(self) -> str:
        """A directory holding links to `TOOLS` alone, made once; the caller's PATH when
        a tool is not installed (the plugin then says what it misses)."""
        if self._path is None:
            found = {tool: shutil.which(tool) for tool in TOOLS}
            if all(found.values()):
                self._tools_dir.mkdir(parents=True, exist_ok=True)
                for tool, target in found.items():
                    link = self._tools_dir / tool
                    if not link.is_symlink() or os.readlink(link) != target:
                        temporary = link.with_name(f".{tool}.{os.getpid()}")
                        temporary.unlink(missing_ok=True)
                        temporary.symlink_to(str(target))
                        temporary.replace(link)
                self._path = str(self._tools_dir)
            else:
                self._path = os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        return self._path

    def _find(self, kind: str) -> Path:
        for directory in self._dirs:
            candidate = directory / kind
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return candidate
        raise MissingBinary(
            f"the CNI plugin '{kind}' is not installed in {', '.join(map(str, self._dirs))} "
            "(Debian: apt-get install containernetworking-plugins), or use --network host"
        )


def _message(out: bytes, err: bytes) -> str:
    try:
        answer = json.loads(out)
    except (json.JSONDecodeError, UnicodeDecodeError):
        text = (err or out).decode(errors="replace").strip()
        return text.splitlines()[-1] if text else "failed without a message"
    message = str(answer.get("msg", "failed"))
    details = answer.get("details")
    return f"{message}: {details}" if details else message
