"""Where a project's containers are on the network, in a module of its own.

Why apart from `model.desired`: the command line offers its values (`--network`) and
`settings` resolves it, and both run before any desired state exists; they should not
pay for building the desired model's classes to name two words.
"""

from __future__ import annotations

import enum


class NetworkMode(enum.Enum):
    """Where a project's containers are on the network: each in a namespace of its own
    on the project's bridge (`bridge`), or all in the host's (`host`, as orchd runs them).
    Host services always use the host's."""

    BRIDGE = "bridge"
    HOST = "host"
