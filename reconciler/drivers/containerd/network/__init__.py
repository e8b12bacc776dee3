"""A project's own network: a Linux bridge, a network namespace per container, names.

Containers of a project in `bridge` mode (the default) each get a network namespace of
their own, joined to the project's bridge by the CNI plugins Debian ships
(`containernetworking-plugins`: bridge, host-local, portmap, loopback); PUBLISH maps host
ports with portmap; every container resolves every service by name through an
`/etc/hosts` the reconciler writes. See docs/networks.md.
"""
