"""Host-driver test helpers: desired services from Orchfile text, fingerprints, and
readers of what `/proc` and the cgroup filesystem show of a unit, from outside."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from reconciler.clock import SystemClock
from reconciler.controllers.fingerprint import fingerprint
from reconciler.drivers.host.driver import HostDriver
from reconciler.model.desired import DesiredService, ProjectName
from reconciler.model.fingerprint import Fingerprint
from reconciler.orchfile.envfile import read_env_files
from reconciler.orchfile.loader import SourceFile, load_sources
from reconciler.orchfile.semantic import ProjectContext, desired_stack
from tests.support.planning import FINGERPRINT_KEY
from tests.support.processes import is_running, live_pids, stat_fields

PROJECT = "hostp"


@dataclass(frozen=True, kw_only=True)
class HostStack:
    project_dir: Path
    state_root: Path
    namespace: str

    @property
    def state_dir(self) -> Path:
        return self.state_root / "projects" / self.namespace / PROJECT

    def driver(self) -> HostDriver:
        return HostDriver(
            project=PROJECT,
            namespace=self.namespace,
            state_dir=self.state_dir,
            clock=SystemClock(),
        )

    def service(self, text: str, name: str = "web") -> DesiredService:
        orchfile = self.project_dir / "Orchfile"
        orchfile.write_text(text)
        document = load_sources([SourceFile(name=str(orchfile), text=text)], {}, {})
        context = ProjectContext(
            project=ProjectName(PROJECT),
            namespace=self.namespace,
            project_dir=self.project_dir,
            state_root=self.state_root,
            files=(orchfile,),
        )
        found = desired_stack(document, context).service(name)
        assert found is not None
        return found


def fingerprint_of(service: DesiredService) -> Fingerprint:
    return fingerprint(
        service, image_digest=None, env_files=read_env_files(service), key=FINGERPRINT_KEY
    )


def unit_id(service: DesiredService) -> str:
    return f"{PROJECT}-{service.name}"


def pids_in_session(session: int) -> list[int]:
    """Live processes whose session is `session`, from /proc."""
    found = []
    for pid in live_pids():
        fields = stat_fields(pid)
        if fields is not None and int(fields[3]) == session and fields[0] != "Z":
            found.append(pid)
    return sorted(found)


def pids_with_marker(marker: str) -> list[int]:
    """Live processes whose command line or environment contains `marker`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            text = (entry / "cmdline").read_bytes() + (entry / "environ").read_bytes()
        except OSError:
            continue
        if marker.encode() in text and is_running(int(entry.name)):
            found.append(int(entry.name))
    return sorted(found)


def unit_cgroups(namespace: str, unit: str) -> list[Path]:
    """The unit's cgroup directories that exist, in any hierarchy."""
    root = Path("/sys/fs/cgroup")
    candidates = [root / "reconciler" / namespace / unit]
    candidates += [h / "reconciler" / namespace / unit for h in root.iterdir() if h.is_dir()]
    return [path for path in candidates if path.is_dir()]
