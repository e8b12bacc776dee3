"""The bridge plugin's masquerading rules of a container, removed when its DEL cannot.

Why this exists: the bridge plugin's DEL learns the container's addresses from its
interface inside the namespace, and removes the `POSTROUTING` rule (and the `CNI-...`
chain it jumps to) for each. When the interface is gone (the namespace was deleted, a
veth removed by hand, a reboot half-undone), DEL frees the address but leaves the rule.
So after every DEL the reconciler removes whatever rule still carries the container's
comment, `name: "<network>" id: "<container id>"`, and its chain.
"""

from __future__ import annotations

import asyncio
import shlex
from typing import Final

from reconciler.errors import RuntimeFailure

TABLE: Final = ("iptables", "-w", "-t", "nat")


def leftover_commands(rules: str, network: str, container_id: str) -> list[list[str]]:
    """The iptables arguments that delete the container's `POSTROUTING` rules (from
    `iptables -t nat -S POSTROUTING`), then flush and delete the chains they jump to."""
    comment = f'name: "{network}" id: "{container_id}"'
    deletions: list[list[str]] = []
    chains: list[str] = []
    for line in rules.splitlines():
        words = shlex.split(line)
        if words[:1] != ["-A"] or comment not in words:
            continue
        deletions.append(["-D", *words[1:]])
        if "-j" in words and (target := words[words.index("-j") + 1]).startswith("CNI-"):
            chains.append(target)
    for chain in dict.fromkeys(chains):
        deletions += [["-F", chain], ["-X", chain]]
    return deletions


async def remove_leftovers(network: str, container_id: str) -> None:
    code, rules = await _iptables("-S", "POSTROUTING")
    if code != 0:
        return  # no nat table to look at: nothing of ours can be there
    for command in leftover_commands(rules, network, container_id):
        code, text = await _iptables(*command)
        if code != 0 and "No chain" not in text and "does not exist" not in text:
            raise RuntimeFailure(f"iptables {' '.join(command)}: {text.strip()}")


async def _iptables(*args: str) -> tuple[int, str]:
    try:
        process = await asyncio.create_subprocess_exec(
            *TABLE,
            *args,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
    except FileNotFoundError:
        return 1, "iptables is not installed"
    out, _ = await process.communicate()
    return process.returncode or 0, out.decode(errors="replace")
