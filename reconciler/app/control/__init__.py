"""The control API of `reconciler run`: its socket, its server, its client, its wire form.

While `run` holds a project it is the project's one writer and its source of truth;
every other command asks it, over a gRPC service on a root-only unix socket under the
state dir (`api/reconciler_api/control.proto`, `docs/api.md`).
"""
