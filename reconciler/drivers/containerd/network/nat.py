"""One masquerading rule per project network, made with its bridge, removed with it.

Why not the bridge plugin's `ipMasq`: it writes a rule and a chain per container on ADD
and removes them on DEL, four iptables calls each way that every container of the host
queues for under iptables' one lock (what made `down` of 20 services twice as slow as in
the host's network), and its DEL can remove them only while it still sees the
container's interface. One rule for the subnet does the same job (traffic leaving the
subnet for elsewhere takes the host's address) and lives as long as the bridge:

    -A POSTROUTING -s <subnet> ! -d <subnet> -m comment
       --comment "reconciler masquerade: <network>" -j MASQUERADE

Blocking calls: run them in a thread.
"""

from __future__ import annotations

import ipaddress
import shlex
import subprocess
from typing import Final

from reconciler.errors import RuntimeFailure

TABLE: Final = ("iptables", "-w", "-t", "nat")
COMMENT_PREFIX: Final = "reconciler masquerade: "


def masquerade_rule(network: str, subnet: ipaddress.IPv4Network) -> list[str]:
    """The rule's arguments after `-A`/`-C`/`-D`."""
    return [
        "POSTROUTING",
        "-s", str(subnet),
        "!", "-d", str(subnet),
        "-m", "comment", "--comment", f"{COMMENT_PREFIX}{network}",
        "-j", "MASQUERADE",
    ]  # fmt: skip


def rules_of(listing: str, network: str) -> list[list[str]]:
    """The arguments after `-A` of every rule of `iptables -S POSTROUTING` that carries
    the network's comment (one, unless the subnet changed or a hand added more)."""
    comment = f"{COMMENT_PREFIX}{network}"
    found = []
    for line in listing.splitlines():
        words = shlex.split(line)
        if words[:1] == ["-A"] and comment in words:
            found.append(words[1:])
    return found


def ensure_masquerade(network: str, subnet: ipaddress.IPv4Network) -> None:
    rule = masquerade_rule(network, subnet)
    if _iptables("-C", *rule).returncode != 0:
        _checked("-A", *rule)


def remove_masquerade(network: str) -> None:
    listed = _iptables("-S", "POSTROUTING")
    if listed.returncode != 0:
        return  # no nat table to look at: nothing of ours can be there
    for rule in rules_of(listed.stdout, network):
        _checked("-D", *rule)


def _checked(*args: str) -> None:
    done = _iptables(*args)
    if done.returncode != 0 and "does a matching rule exist" not in done.stderr:
        message = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "failed"
        raise RuntimeFailure(f"iptables {' '.join(args[:2])}: {message}")


def _iptables(*args: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run([*TABLE, *args], capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise RuntimeFailure(
            "iptables is not installed (Debian: apt-get install iptables), or use --network host"
        ) from None
