"""leak_report(): each leak class, who owns what, and foreign objects never reported."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from reconciler.controllers.leaks import (
    LEASE_MAX_AGE,
    HostFacts,
    LeakFacts,
    NotObserved,
    ProjectFile,
    RecordedProcess,
    Scope,
    leak_report,
    mount_container_id,
)
from reconciler.model import labels
from reconciler.model.desired import DesiredStack, NamedVolume, ServiceMode
from reconciler.model.leaks import Checked, LeakClass, LeakReport, LeakVerdict, Unchecked
from reconciler.model.network_facts import (
    BridgeFact,
    IpamAllocation,
    NatRules,
    NetnsFact,
    VethFact,
)
from reconciler.model.observed import (
    ContainerFact,
    LeaseFact,
    ObservedTask,
    ObservedUnit,
    RuntimeFacts,
    SnapshotFact,
    TaskFact,
    TaskPhase,
)
from reconciler.model.shim_facts import ShimFact
from tests.support.desired import service, stack

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
NS = "orch"
STATE = "/var/lib/containerd-state/io.containerd.runtime.v2.task"


def ours(project: str = "demo", service_name: str = "web") -> dict[str, str]:
    return {**labels.ours(), labels.PROJECT: project, labels.SERVICE: service_name}


def container(cid: str, **fields: Any) -> ContainerFact:
    return ContainerFact(id=cid, snapshot_key=fields.pop("snapshot_key", cid), **fields)


def own_shim(cid: str, pid: int) -> ShimFact:
    """A shim containerd started for one task (no group): it serves `cid` alone."""
    return ShimFact(pid=pid, started_for=cid, container_id=cid)


def project_shim(project: str, pid: int, started_for: str) -> ShimFact:
    """A project's shared shim, started for `started_for` (which may be gone since)."""
    return ShimFact(pid=pid, started_for=started_for, project=project)


def task(cid: str, phase: TaskPhase = TaskPhase.RUNNING, pid: int = 100) -> TaskFact:
    return TaskFact(id=cid, pid=pid, phase=phase)


def facts(**fields: Any) -> LeakFacts:
    values: dict[str, Any] = {
        "runtime": RuntimeFacts(),
        "shims": (),
        "mounts": (),
        "cgroups": {},
        "network_namespaces": (),
        "veths": (),
        "ipam_allocations": (),
        "nat_rules": (),
        "bridges": (),
        "host": HostFacts(),
        "volumes": (),
        "log_files": (),
    }
    values.update(fields)
    return LeakFacts(**values)


def check(
    seen: LeakFacts, desired: DesiredStack | None = None, *, all_projects: bool = False
) -> LeakReport:
    scope = Scope(namespace=NS, desired=desired or stack(), all_projects=all_projects)
    return leak_report(seen, scope, now=NOW)


def leaked(report: LeakReport, leak_class: LeakClass) -> list[str]:
    (outcome,) = [o for o in report.outcomes if o.leak_class is leak_class]
    assert isinstance(outcome, Checked), outcome
    return [item.id for item in outcome.leaked]


def test_nothing_observed_is_clean_and_lists_every_class() -> None:
    report = check(facts())

    assert report.verdict is LeakVerdict.CLEAN
    assert [o.leak_class for o in report.outcomes] == list(LeakClass)


def test_a_running_desired_service_accounts_for_its_container_task_and_host_objects() -> None:
    runtime = RuntimeFacts(
        containers=(container("demo-web", labels=ours()),),
        tasks=(task("demo-web"),),
        snapshots=(SnapshotFact(name="demo-web", active=True, labels=labels.ours()),),
    )
    seen = facts(
        runtime=runtime,
        shims=(own_shim("demo-web", 7),),
        mounts=(f"{STATE}/{NS}/demo-web/rootfs",),
        cgroups={"demo-web": ("/sys/fs/cgroup/memory/orch/demo-web",)},
    )

    assert check(seen, stack(service("web"))).verdict is LeakVerdict.CLEAN


def test_a_container_of_a_removed_service_leaks_with_its_task() -> None:
    runtime = RuntimeFacts(
        containers=(container("demo-old", labels=ours(service_name="old")),),
        tasks=(task("demo-old"),),
    )

    report = check(facts(runtime=runtime), stack(service("web")))

    assert leaked(report, LeakClass.CONTAINERS) == ["demo-old"]
    assert leaked(report, LeakClass.TASKS) == ["demo-old"]
    assert report.verdict is LeakVerdict.LEAKED


def test_a_disabled_service_does_not_account_for_its_container() -> None:
    runtime = RuntimeFacts(containers=(container("demo-web", labels=ours()),))

    report = check(facts(runtime=runtime), stack(service("web", disabled=True)))

    (outcome,) = [o for o in report.outcomes if o.leak_class is LeakClass.CONTAINERS]
    assert isinstance(outcome, Checked)
    assert [(i.id, i.detail) for i in outcome.leaked] == [("demo-web", "service 'web' is DISABLED")]


def test_a_service_moved_to_host_mode_does_not_account_for_its_old_container() -> None:
    runtime = RuntimeFacts(containers=(container("demo-web", labels=ours()),))

    report = check(facts(runtime=runtime), stack(service("web", mode=ServiceMode.HOST)))

    assert leaked(report, LeakClass.CONTAINERS) == ["demo-web"]


def test_a_task_whose_container_record_is_gone_leaks_when_its_id_is_the_projects() -> None:
    runtime = RuntimeFacts(tasks=(task("demo-web"), task("other-web")))

    report = check(facts(runtime=runtime), stack(service("web")))

    assert leaked(report, LeakClass.TASKS) == ["demo-web"]


def test_foreign_containers_tasks_and_snapshots_are_never_reported() -> None:
    runtime = RuntimeFacts(
        containers=(container("demo-foreign"), container("plain")),
        tasks=(task("demo-foreign"), task("plain")),
        snapshots=(
            SnapshotFact(name="demo-unlabelled", active=True),
            SnapshotFact(name="plain-snap", active=True),
        ),
        leases=(LeaseFact(id="theirs", created_at=NOW - timedelta(days=9)),),
    )
    seen = facts(
        runtime=runtime,
        shims=(own_shim("plain", 9),),
        mounts=(f"{STATE}/{NS}/plain/rootfs",),
        cgroups={"plain": ("/sys/fs/cgroup/pids/orch/plain",)},
    )

    report = check(seen)

    assert report.verdict is LeakVerdict.CLEAN


def test_objects_of_a_foreign_container_named_like_ours_are_not_ours() -> None:
    # A record without our labels holds the id: its shim, mount and cgroup are its own.
    runtime = RuntimeFacts(containers=(container("demo-x"),))
    seen = facts(
        runtime=runtime,
        shims=(own_shim("demo-x", 9),),
        mounts=(f"{STATE}/{NS}/demo-x/rootfs",),
        cgroups={"demo-x": ("/sys/fs/cgroup/pids/orch/demo-x",)},
    )

    assert check(seen).verdict is LeakVerdict.CLEAN


def test_another_projects_labelled_objects_are_not_this_projects_leaks() -> None:
    runtime = RuntimeFacts(
        containers=(container("other-web", labels=ours(project="other")),),
        tasks=(task("other-web"),),
    )

    assert check(facts(runtime=runtime)).verdict is LeakVerdict.CLEAN


def test_a_labelled_container_of_another_project_whose_id_has_our_prefix_is_theirs() -> None:
    runtime = RuntimeFacts(
        containers=(container("demo-x-web", labels=ours(project="demo-x")),),
        tasks=(task("demo-x-web"),),
    )
    seen = facts(runtime=replace(runtime, tasks=()), shims=(own_shim("demo-x-web", 5),))

    assert check(seen).verdict is LeakVerdict.CLEAN


def test_a_projects_shim_is_held_by_any_task_of_the_project_not_the_one_it_started_for() -> None:
    # The group's shim keeps the -id of its first container, long removed.
    runtime = RuntimeFacts(
        containers=(container("demo-db", labels=ours(service_name="db")),),
        tasks=(task("demo-db", TaskPhase.STOPPED),),
    )
    seen = facts(runtime=runtime, shims=(project_shim("demo", 5, started_for="demo-old"),))

    assert check(seen, stack(service("db"))).verdict is LeakVerdict.CLEAN


def test_a_projects_shim_without_a_task_of_the_project_leaks_once_with_every_pid() -> None:
    runtime = RuntimeFacts(
        containers=(
            container("demo-web", labels=ours()),
            container("demo-x-web", labels=ours(project="demo-x")),
        ),
        tasks=(task("demo-x-web"),),
    )
    seen = facts(
        runtime=runtime,
        shims=(
            project_shim("demo", 6, started_for="demo-web"),
            project_shim("demo", 5, started_for="demo-web"),
            project_shim("demo-x", 7, started_for="demo-x-web"),
        ),
    )

    report = check(seen, stack(service("web")))

    (outcome,) = [o for o in report.outcomes if o.leak_class is LeakClass.SHIMS]
    assert isinstance(outcome, Checked)
    assert [(i.id, i.detail) for i in outcome.leaked] == [
        ("demo", "shim pid 5, 6 of project 'demo'; no task of the project")
    ]


def test_a_headless_task_of_the_project_holds_its_shim() -> None:
    # The task is the leak (its record is gone); the shim serving it is not another.
    seen = facts(
        runtime=RuntimeFacts(tasks=(task("demo-web"),)),
        shims=(project_shim("demo", 5, started_for="demo-web"),),
    )

    report = check(seen)

    assert leaked(report, LeakClass.TASKS) == ["demo-web"]
    assert leaked(report, LeakClass.SHIMS) == []


def test_another_projects_shim_and_a_group_not_ours_are_not_this_projects_leaks() -> None:
    seen = facts(
        shims=(
            project_shim("other", 5, started_for="other-web"),
            ShimFact(pid=6, started_for="demo-web"),  # a group of someone else's
        ),
    )

    assert check(seen).verdict is LeakVerdict.CLEAN
    assert leaked(check(seen, all_projects=True), LeakClass.SHIMS) == ["other"]


def test_all_projects_reports_every_projects_leaks() -> None:
    runtime = RuntimeFacts(
        containers=(
            container("other-web", labels=ours(project="other")),
            container("demo-web", labels=ours()),
        ),
        tasks=(task("third-db"),),
    )
    seen = facts(runtime=runtime, state_projects=("third",))

    report = check(seen, stack(service("web")), all_projects=True)

    assert leaked(report, LeakClass.CONTAINERS) == ["other-web"]
    assert leaked(report, LeakClass.TASKS) == ["third-db"]
    assert report.all_projects


def test_an_active_labelled_snapshot_without_a_container_leaks() -> None:
    runtime = RuntimeFacts(
        containers=(container("demo-web", labels=ours()),),
        snapshots=(
            SnapshotFact(name="demo-web", active=True, labels=labels.ours()),
            SnapshotFact(name="demo-stray", active=True, labels=labels.ours()),
            SnapshotFact(name="demo-view", active=False, labels=labels.ours()),
            SnapshotFact(name="sha256:layer", active=False, labels=labels.ours()),
        ),
    )

    report = check(facts(runtime=runtime), stack(service("web")))

    assert leaked(report, LeakClass.SNAPSHOTS) == ["demo-stray"]


def lease(
    lease_id: str, *, age: timedelta, expires_in: timedelta | None, **extra: str
) -> LeaseFact:
    found = {**labels.ours(), **extra}
    if expires_in is not None:
        found["containerd.io/gc.expire"] = (NOW + expires_in).strftime("%Y-%m-%dT%H:%M:%SZ")
    return LeaseFact(id=lease_id, created_at=NOW - age, labels=found)


def test_leases_leak_when_expired_without_expiry_or_too_old_but_not_while_in_flight() -> None:
    minute = timedelta(minutes=1)
    runtime = RuntimeFacts(
        leases=(
            lease("in-flight", age=minute, expires_in=timedelta(hours=1)),
            lease("expired", age=2 * minute, expires_in=-minute),
            lease("forever", age=minute, expires_in=None),
            lease("old", age=LEASE_MAX_AGE + minute, expires_in=timedelta(days=1)),
            lease("other-project", age=minute, expires_in=-minute, **{labels.PROJECT: "other"}),
        )
    )

    report = check(facts(runtime=runtime))

    assert leaked(report, LeakClass.LEASES) == ["expired", "forever", "old"]


def test_a_young_lease_whose_process_is_gone_leaks_and_says_whose_it_was() -> None:
    young = lease("killed", age=timedelta(seconds=5), expires_in=timedelta(hours=1))
    orphan = replace(young, labels={**young.labels, labels.OWNER: "4242@99"}, owner_gone=True)

    report = check(facts(runtime=RuntimeFacts(leases=(orphan,))))

    (outcome,) = [o for o in report.outcomes if o.leak_class is LeakClass.LEASES]
    assert isinstance(outcome, Checked)
    assert [(i.id, i.detail) for i in outcome.leaked] == [
        ("killed", "its process (4242@99) is gone")
    ]


def test_an_unparsable_expiry_is_a_lease_that_never_expires() -> None:
    bad = LeaseFact(
        id="tomorrow",
        created_at=NOW,
        labels={**labels.ours(), "containerd.io/gc.expire": "tomorrow"},
    )

    report = check(facts(runtime=RuntimeFacts(leases=(bad,))))

    assert leaked(report, LeakClass.LEASES) == ["tomorrow"]


def test_shims_mounts_and_cgroups_leak_only_without_a_task() -> None:
    runtime = RuntimeFacts(tasks=(task("demo-stopped", TaskPhase.STOPPED),))
    seen = facts(
        runtime=runtime,
        shims=(
            own_shim("demo-gone", 11),
            own_shim("demo-gone", 12),
            own_shim("demo-stopped", 13),
        ),
        mounts=(
            f"{STATE}/{NS}/demo-gone/rootfs",
            f"{STATE}/{NS}/demo-stopped/rootfs",
            f"{STATE}/other-ns/demo-gone/rootfs",
        ),
        cgroups={
            "demo-gone": (
                "/sys/fs/cgroup/pids/orch/demo-gone",
                "/sys/fs/cgroup/unified/orch/demo-gone",
            ),
            "demo-stopped": ("/sys/fs/cgroup/pids/orch/demo-stopped",),
        },
    )

    report = check(seen)

    assert leaked(report, LeakClass.SHIMS) == ["demo-gone"]
    assert leaked(report, LeakClass.MOUNTS) == [f"{STATE}/{NS}/demo-gone/rootfs"]
    assert leaked(report, LeakClass.CGROUPS) == [
        "/sys/fs/cgroup/pids/orch/demo-gone",
        "/sys/fs/cgroup/unified/orch/demo-gone",
    ]


def test_a_rootfs_mount_point_names_its_container() -> None:
    assert mount_container_id(NS, f"{STATE}/{NS}/demo-web/rootfs") == "demo-web"
    assert mount_container_id(NS, f"{STATE}/{NS}/demo-web/rootfs/proc") == "demo-web"
    assert mount_container_id(NS, f"{STATE}/{NS}/demo-web/work") is None
    assert mount_container_id(NS, "/proc") is None


BRIDGE = "orch-0123456789"


def network_objects(cid: str) -> dict[str, Any]:
    """Every network object an attachment makes for container `cid`, as gathered."""
    return {
        "network_namespaces": (NetnsFact(name=f"orch-{NS}--{cid}", container_id=cid),),
        "veths": (VethFact(name=f"veth-{cid}", bridge=BRIDGE, project="demo", container_id=cid),),
        "ipam_allocations": (
            IpamAllocation(
                path=Path(f"/state/demo/network/ipam/orch-{NS}-demo/10.0.0.2"),
                address="10.0.0.2",
                project="demo",
                container_id=cid,
            ),
        ),
        "nat_rules": (
            NatRules(network=f"orch-{NS}-demo", container_id=cid, rules=4, chains=("CNI-x",)),
        ),
    }


NETWORK_CLASSES = (
    LeakClass.NETWORK_NAMESPACES,
    LeakClass.VETHS,
    LeakClass.IPAM_ALLOCATIONS,
    LeakClass.PORT_MAPPINGS,
)


@pytest.mark.parametrize(
    ("cid", "containers", "is_leaked"),
    [
        # A container record holds them, even with no task (a stopped container keeps
        # its namespace and address).
        ("demo-web", (container("demo-web", labels=ours()),), False),
        # Its record is gone: what its attachment made is left behind.
        ("demo-gone", (), True),
        # Not this project's id: another project's objects, or no one we know.
        ("other-web", (container("other-web", labels=ours(project="other")),), False),
        ("other-gone", (), False),
        # A record without our labels holds the id: someone else's container.
        ("demo-foreign", (container("demo-foreign"),), False),
    ],
)
def test_network_objects_leak_when_no_container_record_holds_their_id(
    cid: str, containers: tuple[ContainerFact, ...], is_leaked: bool
) -> None:
    seen = facts(runtime=RuntimeFacts(containers=containers), **network_objects(cid))

    report = check(seen, stack(service("web")))

    expected = {
        LeakClass.NETWORK_NAMESPACES: [f"orch-{NS}--{cid}"],
        LeakClass.VETHS: [f"veth-{cid}"],
        LeakClass.IPAM_ALLOCATIONS: [f"/state/demo/network/ipam/orch-{NS}-demo/10.0.0.2"],
        LeakClass.PORT_MAPPINGS: [cid],
    }
    for leak_class in NETWORK_CLASSES:
        assert leaked(report, leak_class) == (expected[leak_class] if is_leaked else []), leak_class


def test_network_leaks_say_whose_they_were() -> None:
    report = check(facts(**network_objects("demo-gone")))

    details = {
        o.leak_class: [i.detail for i in o.leaked]
        for o in report.outcomes
        if isinstance(o, Checked) and o.leaked
    }
    assert details == {
        LeakClass.NETWORK_NAMESPACES: ["of demo-gone; no container"],
        LeakClass.VETHS: [f"of demo-gone on bridge {BRIDGE}; no container"],
        LeakClass.IPAM_ALLOCATIONS: ["10.0.0.2 of demo-gone; no container"],
        LeakClass.PORT_MAPPINGS: [
            f"4 nat rules of network orch-{NS}-demo, chains CNI-x; no container"
        ],
    }


def test_a_port_of_our_bridge_or_an_address_that_names_no_container_leaks() -> None:
    seen = facts(
        veths=(
            VethFact(name="vethA", bridge=BRIDGE, project="demo", container_id=None),
            VethFact(name="vethB", bridge="orch-other", project="other", container_id=None),
        ),
        ipam_allocations=(
            IpamAllocation(
                path=Path("/s/demo/a"), address="10.0.0.9", project="demo", container_id=None
            ),
            IpamAllocation(
                path=Path("/s/other/a"), address="10.1.0.9", project="other", container_id=None
            ),
        ),
    )

    report = check(seen)

    assert leaked(report, LeakClass.VETHS) == ["vethA"]
    assert leaked(report, LeakClass.IPAM_ALLOCATIONS) == ["/s/demo/a"]
    assert check(seen, all_projects=True).leaked_count == 4


def test_a_networks_masquerading_rule_leaks_when_its_project_has_no_container() -> None:
    rule = NatRules(network=f"orch-{NS}-demo", container_id="", rules=1, project="demo")
    held = RuntimeFacts(containers=(container("demo-web", labels=ours()),))

    assert leaked(check(facts(runtime=held, nat_rules=(rule,))), LeakClass.PORT_MAPPINGS) == []
    report = check(facts(nat_rules=(rule,)))
    assert leaked(report, LeakClass.PORT_MAPPINGS) == [f"orch-{NS}-demo"]


def test_a_bridge_leaks_when_no_existing_container_holds_an_attachment_on_it() -> None:
    bridges = (
        BridgeFact(name="orch-held", project="demo", interfaces=1, holders=("demo-web",)),
        BridgeFact(name="orch-stale", project="demo", interfaces=1, holders=("demo-gone",)),
        BridgeFact(name="orch-empty", project="demo", interfaces=0),
        BridgeFact(name="orch-theirs", project="other", interfaces=0),
    )
    runtime = RuntimeFacts(containers=(container("demo-web", labels=ours()),))

    report = check(facts(runtime=runtime, bridges=bridges), stack(service("web")))

    (outcome,) = [o for o in report.outcomes if o.leak_class is LeakClass.BRIDGES]
    assert isinstance(outcome, Checked)
    assert [(i.id, i.detail) for i in outcome.leaked] == [
        ("orch-empty", "of project 'demo', 0 interfaces; no container is attached"),
        ("orch-stale", "of project 'demo', 1 interface; no container is attached"),
    ]
    everything = check(facts(runtime=runtime, bridges=bridges), all_projects=True)
    assert leaked(everything, LeakClass.BRIDGES) == ["orch-empty", "orch-stale", "orch-theirs"]


def test_a_network_probe_that_could_not_look_leaves_only_its_class_unchecked() -> None:
    seen = facts(
        nat_rules=NotObserved(reason="not root"),
        **{k: v for k, v in network_objects("demo-gone").items() if k != "nat_rules"},
    )

    report = check(seen)

    assert [(u.leak_class, u.reason) for u in report.unchecked] == [
        (LeakClass.PORT_MAPPINGS, "not root")
    ]
    assert report.leaked_count == 3


def host_unit(service_name: str, *, phase: TaskPhase, project: str = "demo") -> ObservedUnit:
    return ObservedUnit(
        id=f"{project}-{service_name}",
        mode=ServiceMode.HOST,
        project=project,
        service=service_name,
        config_hash="h",
        image="",
        labels=ours(project, service_name),
        task=ObservedTask(phase=phase, pid=4242),
    )


def test_a_host_process_of_an_undesired_service_leaks_while_it_runs() -> None:
    host = HostFacts(
        units=(
            host_unit("gone", phase=TaskPhase.RUNNING),
            host_unit("done", phase=TaskPhase.STOPPED),
            host_unit("agent", phase=TaskPhase.RUNNING),
            host_unit("web", phase=TaskPhase.RUNNING, project="other"),
        ),
        recorded=(
            RecordedProcess(unit_id="demo-deleted", pid=77),
            RecordedProcess(unit_id="zzz-x", pid=78),
        ),
    )

    report = check(facts(host=host), stack(service("agent", mode=ServiceMode.HOST)))

    assert leaked(report, LeakClass.HOST_PROCESSES) == ["demo-deleted", "demo-gone"]


def test_volumes_of_services_no_longer_in_the_orchfile_are_reported() -> None:
    volume = NamedVolume(name="data", host_path=Path("/state/volumes/data"), destination="/d")
    desired = stack(service("db", volumes=(volume,)), service("off", disabled=True, volumes=()))
    seen = facts(
        volumes=(
            ProjectFile(project="demo", path=Path("/state/volumes/data")),
            ProjectFile(project="demo", path=Path("/state/volumes/old-cache")),
        )
    )

    assert leaked(check(seen, desired), LeakClass.VOLUMES) == ["/state/volumes/old-cache"]


def test_a_disabled_services_volume_is_still_accounted_for() -> None:
    volume = NamedVolume(name="data", host_path=Path("/state/volumes/data"), destination="/d")
    seen = facts(volumes=(ProjectFile(project="demo", path=Path("/state/volumes/data")),))

    report = check(seen, stack(service("db", disabled=True, volumes=(volume,))))

    assert report.verdict is LeakVerdict.CLEAN


def test_log_files_of_services_no_longer_in_the_orchfile_are_reported() -> None:
    files = tuple(
        ProjectFile(project="demo", path=Path(f"/state/logs/{name}"))
        for name in ("web.log", "web.err", "web.log.1", "old.log", "webby.log")
    )

    report = check(facts(log_files=files), stack(service("web")))

    assert leaked(report, LeakClass.LOG_FILES) == ["/state/logs/old.log", "/state/logs/webby.log"]


def test_with_no_orchfile_everything_of_the_project_is_leaked() -> None:
    runtime = RuntimeFacts(
        containers=(container("demo-web", labels=ours()),), tasks=(task("demo-web"),)
    )
    seen = facts(
        runtime=runtime,
        volumes=(ProjectFile(project="demo", path=Path("/state/volumes/data")),),
        log_files=(ProjectFile(project="demo", path=Path("/state/logs/web.log")),),
    )

    report = check(seen, stack())

    assert report.leaked_count == 4


def test_files_of_other_projects_count_only_with_all_projects() -> None:
    seen = facts(
        volumes=(ProjectFile(project="other", path=Path("/s/other/volumes/v")),),
        log_files=(ProjectFile(project="other", path=Path("/s/other/logs/a.log")),),
    )

    assert check(seen).verdict is LeakVerdict.CLEAN
    assert check(seen, all_projects=True).leaked_count == 2


def test_containerd_unreachable_leaves_its_classes_and_the_task_dependent_ones_unchecked() -> None:
    seen = facts(runtime=NotObserved(reason="containerd at /x: refused"))

    report = check(seen)

    unchecked = {o.leak_class for o in report.outcomes if isinstance(o, Unchecked)}
    assert unchecked == {
        LeakClass.TASKS,
        LeakClass.CONTAINERS,
        LeakClass.SNAPSHOTS,
        LeakClass.LEASES,
        LeakClass.SHIMS,
        LeakClass.MOUNTS,
        LeakClass.CGROUPS,
        LeakClass.NETWORK_NAMESPACES,
        LeakClass.VETHS,
        LeakClass.IPAM_ALLOCATIONS,
        LeakClass.PORT_MAPPINGS,
        LeakClass.BRIDGES,
    }
    assert report.verdict is LeakVerdict.UNCHECKED


def test_a_leak_found_outweighs_a_class_not_checked() -> None:
    seen = facts(
        cgroups=NotObserved(reason="not root"),
        log_files=(ProjectFile(project="demo", path=Path("/state/logs/old.log")),),
    )

    report = check(seen)

    assert report.verdict is LeakVerdict.LEAKED
    assert [u.reason for u in report.unchecked] == ["not root"]
