"""Resolve a merged `RawFile` into the `Document`: expand, type, and check constraints.

Staged as the reference stages it, each stage reported only when the ones before it
passed: (1) per service, values that do not parse and the C1, C2 and C3 constraints,
(2) dependency cycles through REQUIRES and AFTER (C4), (3) REQUIRES naming a service
that does not exist. Every error names the service, the file and the line.

ARG values come from `--arg` first, then the environment's `ORCH_ARG_<name>`, then the
last file's default; an override for a name no file declares is ignored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final, Protocol

from reconciler.errors import Diagnostic, InvalidOrchfile, Location
from reconciler.model.secret import Secret
from reconciler.orchfile.document import (
    Document,
    Logging,
    Mode,
    PortMapping,
    RecreatePolicy,
    Resources,
    Restart,
    RestartPolicy,
    Service,
    Timeouts,
    VolumeMount,
)
from reconciler.orchfile.expand import expand
from reconciler.orchfile.raw import RawFile, RawService, Scalar, Word


class _Literal(Protocol):
    @property
    def literal(self) -> bool: ...


def _expand(item: _Literal, text: str, args: Mapping[str, str]) -> str:
    """`text` of `item` with ARGs expanded, unless the item is literal."""
    return text if item.literal else expand(text, args)


ARG_ENV_PREFIX: Final = "ORCH_ARG_"
U16_MAX: Final = 65535
U32_MAX: Final = 2**32 - 1
U64_MAX: Final = 2**64 - 1
_UNSIGNED: Final = re.compile(r"\+?[0-9]+")
# Rust's f64 grammar: what `str::parse::<f64>` accepts, and nothing Python adds (`_`).
_FLOAT: Final = re.compile(
    r"[+-]?(?:inf|infinity|nan|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:e[+-]?[0-9]+)?)",
    re.IGNORECASE,
)
_NAMED_SOURCE_EXCLUDES: Final = ("/", "./", "../", "${")


def resolve_args(
    raw: RawFile, cli_args: Mapping[str, str], environ: Mapping[str, str]
) -> dict[str, str]:
    args: dict[str, str] = {}
    for name, arg in raw.args.items():
        if name in cli_args:
            args[name] = cli_args[name]
        elif ARG_ENV_PREFIX + name in environ:
            args[name] = environ[ARG_ENV_PREFIX + name]
        else:
            args[name] = arg.default
    return args


def resolve(raw: RawFile, cli_args: Mapping[str, str], environ: Mapping[str, str]) -> Document:
    args = resolve_args(raw, cli_args, environ)
    errors: list[Diagnostic] = []
    services: list[Service] = []
    for raw_service in raw.services:
        resolver = _ServiceResolver(raw_service, args)
        service = resolver.resolve()
        errors.extend(resolver.errors)
        services.append(service)
    if errors:
        raise InvalidOrchfile(errors)
    by_name = {s.name: s for s in raw.services}
    edges = {
        s.name: [
            w for w in (*s.requires.items, *s.after.items) if _expand(w, w.text, args) in by_name
        ]
        for s in raw.services
    }
    if cycles := _cycles(edges, args):
        raise InvalidOrchfile(cycles)
    missing = [
        _diagnostic(s.name, w.at, f"REQUIRES references unknown service '{name}'")
        for s in raw.services
        for w in s.requires.items
        if (name := _expand(w, w.text, args)) not in by_name
    ]
    if missing:
        raise InvalidOrchfile(missing)
    return Document(args=MappingProxyType(args), services=tuple(services))


def _diagnostic(service: str, at: Location, message: str) -> Diagnostic:
    return Diagnostic(location=at, message=f"service '{service}': {message}")


def _cycles(edges: Mapping[str, list[Word]], args: Mapping[str, str]) -> list[Diagnostic]:
    """Depth-first search in file order; one diagnostic per back edge found."""
    visiting: set[str] = set()
    done: set[str] = set()
    path: list[str] = []
    found: list[Diagnostic] = []

    def visit(node: str) -> None:
        visiting.add(node)
        path.append(node)
        for word in edges[node]:
            target = _expand(word, word.text, args)
            if target in visiting:
                cycle = [*path[path.index(target) :], target]
                message = f"dependency cycle detected: {' -> '.join(cycle)}"
                found.append(_diagnostic(target, word.at, message))
            elif target not in done:
                visit(target)
        path.pop()
        visiting.discard(node)
        done.add(node)

    for name in edges:
        if name not in done:
            visit(name)
    return found


@dataclass
class _ServiceResolver:
    raw: RawService
    args: Mapping[str, str]
    errors: list[Diagnostic] = field(default_factory=list)

    def error(self, at: Location, message: str) -> None:
        self.errors.append(_diagnostic(self.raw.name, at, message))

    def text(self, scalar: Scalar) -> str | None:
        sourced = self.raw.scalars.get(scalar)
        return None if sourced is None else _expand(sourced, sourced.text, self.args)

    def unsigned(self, scalar: Scalar, maximum: int) -> int | None:
        sourced = self.raw.scalars.get(scalar)
        if sourced is None:
            return None
        value = _expand(sourced, sourced.text, self.args)
        if _UNSIGNED.fullmatch(value) and int(value) <= maximum:
            return int(value)
        self.error(sourced.at, f"{scalar.value} must be a number, got '{value}'")
        return None

    def boolean(self, scalar: Scalar) -> bool:
        sourced = self.raw.scalars.get(scalar)
        if sourced is None:
            return False
        value = _expand(sourced, sourced.text, self.args)
        if value in ("true", "false"):
            return value == "true"
        self.error(sourced.at, f"{scalar.value} expects 'true' or 'false', got '{value}'")
        return False

    def cpus(self) -> float | None:
        sourced = self.raw.scalars.get(Scalar.CPUS)
        if sourced is None:
            return None
        value = _expand(sourced, sourced.text, self.args)
        if _FLOAT.fullmatch(value):
            return float(value)
        self.error(sourced.at, f"CPUS must be a number, got '{value}'")
        return None

    def io_weight(self) -> int | None:
        sourced = self.raw.scalars.get(Scalar.IO_WEIGHT)
        weight = self.unsigned(Scalar.IO_WEIGHT, U32_MAX)
        if sourced is not None and weight is not None and not 10 <= weight <= 1000:
            self.error(sourced.at, f"IO_WEIGHT must be 10-1000, got {weight}")
        return weight

    def recreate(self) -> RecreatePolicy:
        sourced = self.raw.scalars.get(Scalar.RECREATE)
        if sourced is None:
            return RecreatePolicy.NEVER
        value = _expand(sourced, sourced.text, self.args)
        if value in ("always", "never"):
            return RecreatePolicy(value)
        self.error(sourced.at, f"invalid RECREATE value '{value}', expected 'always' or 'never'")
        return RecreatePolicy.NEVER

    def restart_policy(self) -> RestartPolicy:
        sourced = self.raw.scalars.get(Scalar.RESTART)
        if sourced is None:
            return RestartPolicy.NO
        value = _expand(sourced, sourced.text, self.args)
        policies = {"no": RestartPolicy.NO, "always": RestartPolicy.ALWAYS}
        policies["on-failure"] = RestartPolicy.ON_FAILURE
        if value in policies:
            return policies[value]
        self.error(
            sourced.at,
            f"invalid RESTART value '{value}', expected 'no', 'always', or 'on-failure'",
        )
        return RestartPolicy.NO

    def publish(self) -> tuple[PortMapping, ...]:
        mappings: list[PortMapping] = []
        for entry in self.raw.publish.items:
            host = _expand(entry, entry.host, self.args)
            container = _expand(entry, entry.container, self.args)
            if not _is_port(host):
                self.error(entry.at, f"invalid host port '{host}' in PUBLISH")
            elif not _is_port(container):
                self.error(entry.at, f"invalid container port '{container}' in PUBLISH")
            else:
                address = _expand(entry, entry.address, self.args) or None
                mappings.append(
                    PortMapping(host=int(host), container=int(container), address=address)
                )
        return tuple(mappings)

    def volumes(self) -> tuple[VolumeMount, ...]:
        mounts = []
        for entry in self.raw.volumes.items:
            source = _expand(entry, entry.source, self.args)
            mounts.append(
                VolumeMount(
                    source=source,
                    destination=_expand(entry, entry.destination, self.args),
                    is_named=not source.startswith(_NAMED_SOURCE_EXCLUDES),
                )
            )
        return tuple(mounts)

    def mode(self) -> Mode:
        raw = self.raw
        if raw.from_ is not None and raw.run is not None:
            self.error(
                raw.run.at,
                f"cannot specify both FROM ({raw.from_.at}) and RUN ({raw.run.at}) (C1)",
            )
            return Mode.CONTAINER
        if raw.from_ is None and raw.run is None:
            self.error(raw.at, "must specify either FROM or RUN (C1)")
            return Mode.CONTAINER
        return Mode.CONTAINER if raw.from_ is not None else Mode.HOST

    def check_mode_directives(self, mode: Mode) -> None:
        if mode is Mode.HOST:
            for use in self.raw.container_uses:
                self.error(
                    use.at,
                    f"{use.directive} is only valid with FROM (container mode), "
                    f"found at {use.at} (C2)",
                )
        else:
            for use in self.raw.host_uses:
                self.error(
                    use.at,
                    f"{use.directive} is only valid with RUN (host mode), found at {use.at} (C3)",
                )

    def resolve(self) -> Service:
        raw, args = self.raw, self.args
        publish = self.publish()
        oneshot = self.boolean(Scalar.ONESHOT)
        disabled = self.boolean(Scalar.DISABLED)
        recreate = self.recreate()
        restart = Restart(
            policy=self.restart_policy(),
            delay=self.text(Scalar.RESTART_DELAY),
            start_limit_burst=self.unsigned(Scalar.START_LIMIT_BURST, U32_MAX),
            start_limit_interval=self.text(Scalar.START_LIMIT_INTERVAL),
        )
        resources = Resources(
            memory=self.text(Scalar.MEMORY),
            cpus=self.cpus(),
            cpu_quota=self.text(Scalar.CPU_QUOTA),
            limit_nofile=self.unsigned(Scalar.LIMIT_NOFILE, U64_MAX),
            limit_nproc=self.unsigned(Scalar.LIMIT_NPROC, U64_MAX),
            tasks_max=self.unsigned(Scalar.TASKS_MAX, U64_MAX),
            io_weight=self.io_weight(),
        )
        mode = self.mode()
        self.check_mode_directives(mode)
        env = {
            _expand(e, e.key, args): Secret(_expand(e, e.value.reveal(), args))
            for e in raw.env.items
        }
        return Service(
            name=raw.name,
            mode=mode,
            image=None if raw.from_ is None else _expand(raw.from_, raw.from_.text, args),
            run_command=None if raw.run is None else _expand(raw.run, raw.run.text, args),
            entrypoint=self.text(Scalar.ENTRYPOINT),
            cmd=self.text(Scalar.CMD),
            publish=publish,
            volumes=self.volumes(),
            user=self.text(Scalar.USER),
            stop_command=self.text(Scalar.STOP),
            reload_command=self.text(Scalar.RELOAD),
            workdir=self.text(Scalar.WORKDIR),
            env=MappingProxyType(env),
            env_files=tuple(_expand(w, w.text, args) for w in raw.env_files.items),
            requires=tuple(_expand(w, w.text, args) for w in raw.requires.items),
            after=tuple(_expand(w, w.text, args) for w in raw.after.items),
            healthcheck=self.text(Scalar.HEALTHCHECK),
            readiness_timeout=self.text(Scalar.READINESS_TIMEOUT),
            oneshot=oneshot,
            disabled=disabled,
            recreate=recreate,
            restart=restart,
            timeouts=Timeouts(
                start=self.text(Scalar.TIMEOUT_START), stop=self.text(Scalar.TIMEOUT_STOP)
            ),
            resources=resources,
            logging=Logging(stdout=self.text(Scalar.STDOUT), stderr=self.text(Scalar.STDERR)),
            locations=MappingProxyType(self.locations()),
        )

    def locations(self) -> dict[str, tuple[Location, ...]]:
        raw = self.raw
        places: dict[str, tuple[Location, ...]] = {"SERVICE": (raw.at,)}
        for sourced, directive in ((raw.from_, "FROM"), (raw.run, "RUN")):
            if sourced is not None:
                places[directive] = (sourced.at,)
        for scalar, sourced in raw.scalars.items():
            places[scalar.value] = (sourced.at,)
        places["ENV"] = tuple(e.at for e in raw.env.items)
        places["ENV_FILE"] = tuple(w.at for w in raw.env_files.items)
        places["PUBLISH"] = tuple(p.at for p in raw.publish.items)
        places["VOLUME"] = tuple(v.at for v in raw.volumes.items)
        places["REQUIRES"] = tuple(w.at for w in raw.requires.items)
        places["AFTER"] = tuple(w.at for w in raw.after.items)
        return places


def _is_port(text: str) -> bool:
    return bool(_UNSIGNED.fullmatch(text)) and int(text) <= U16_MAX
