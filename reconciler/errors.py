"""The project's one error hierarchy.

Every failure a user can cause or meet is one of these, carrying the exit code the CLI
returns and a one-line message that names the file, line, service or socket involved.
Lower layers raise them; the CLI prints ``str(error)`` and exits with ``error.exit_code``.
Third-party exceptions (gRPC, OS, HTTP) are translated once, at the driver boundary,
with the original chained by ``raise ... from``.

    ReconcilerError                     exit 1
    ├── Retryable                       the condition passes by itself: try again later
    │   (RuntimeUnavailable, RegistryUnavailable and TaskSettling are also in this branch;
    │   everything else is terminal: retrying the same call gives the same answer)
    ├── UsageError                      bad flags or arguments
    │   └── MissingBinary               a program we need (containerd, runc) is not installed
    ├── InvalidOrchfile                 parse, merge or validation errors (a list of them)
    │   └── NotExportable               directives `export` cannot map (a list of them)
    ├── ServiceConfigError              a value unusable at run time (MEMORY '12Q')
    ├── RuntimeError_                   something the runtime said
    │   ├── RuntimeUnavailable          retryable: daemon down, socket refused, ref locked
    │   ├── TaskSettling                retryable: an interrupted task creation still finishing
    │   ├── NotFound                    terminal for the call; idempotent steps tolerate it
    │   ├── AlreadyExists
    │   ├── FailedPrecondition
    │   ├── InvalidArgument
    │   └── RuntimeFailure              anything else the runtime or shim reported
    │                                   (believed when it repeats; the rest at once)
    ├── ImageError                      an image could not be imported or pulled
    │   ├── ImageNotFound               no such path, tag, digest or manifest
    │   ├── ImageDigestMismatch         bytes that do not hash to their descriptor's digest
    │   ├── RegistryAuthError           the registry or its token server refused us
    │   └── RegistryUnavailable         retryable: unreachable, reset, 5xx or 429 (after retries)
    ├── Conflict                        an object exists without our labels: never touched
    ├── LockHeld                        another run/apply holds the project lock
    ├── UnsafePath                      a path another user could change: a link we would
    │                                   follow, another owner, writable by group or others
    ├── HostResourceError               the host refused a file operation: disk full, no
    │                                   inodes, too many open files, read-only, no permission
    └── ControlError                    talking to a running `reconciler run` failed
        └── NoRun                       no `run` holds the project (`events` needs one)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class ReconcilerError(Exception):
    """Base of every error the project raises on purpose."""

    exit_code: int = 1
    # How many times in a row the same failure must happen before it is believed to
    # need a change (the service is `failed`): a terminal error at once.
    believed_after: int = 1


class Retryable(ReconcilerError):
    """A failure that passes by itself (the runtime restarting, a registry overloaded):
    the same call later may succeed. Everything not in this branch is terminal."""


class UsageError(ReconcilerError):
    """A command line the tool cannot act on."""


class MissingBinary(UsageError):
    """A program the tool runs is not installed; the message names the packages to install."""


@dataclass(frozen=True, kw_only=True)
class Location:
    """Where in the desired-state files a problem is; ``line`` is 1-based, 0 if unknown."""

    file: str
    line: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass(frozen=True, kw_only=True)
class Diagnostic:
    """One located message about an Orchfile."""

    location: Location | None
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


class InvalidOrchfile(ReconcilerError):
    """The desired-state files are invalid; carries every diagnostic found, in order."""

    def __init__(self, diagnostics: Sequence[Diagnostic]) -> None:
        self.diagnostics = tuple(diagnostics)
        super().__init__("\n".join(str(d) for d in self.diagnostics))


class NotExportable(InvalidOrchfile):
    """Directives an export has no form for (with `--strict`: any it maps with a loss)."""


class ServiceConfigError(ReconcilerError):
    """A service's value that parses but cannot be used (``MEMORY 12Q``)."""


class RuntimeError_(ReconcilerError):
    """The container runtime refused or failed a call."""


class RuntimeUnavailable(RuntimeError_, Retryable):
    """Retryable: the runtime could not be reached or asked us to come back later."""


class TaskSettling(RuntimeError_, Retryable):
    """Retryable: an earlier task creation, whose caller died, is still finishing."""


class NotFound(RuntimeError_):
    """The object does not exist (idempotent deletes treat this as success)."""


class AlreadyExists(RuntimeError_):
    """The object exists already (idempotent creates adopt it when it is ours)."""


class FailedPrecondition(RuntimeError_):
    """The runtime's state does not allow the call now."""


class InvalidArgument(RuntimeError_):
    """The runtime rejected the call's arguments."""


class RuntimeFailure(RuntimeError_):
    """Any other runtime failure; the runtime's text is kept in the message. Believed on
    its second time: a runtime that was just restarted reports leftovers of interrupted
    work (a half-made snapshot, a mount) that the next attempt does not meet."""

    believed_after = 2


class ImageError(ReconcilerError):
    """An image could not be imported, pulled or unpacked."""


class ImageNotFound(ImageError):
    """The image reference or path names nothing that exists."""


class ImageDigestMismatch(ImageError):
    """A blob, manifest or layer did not match its digest or size; nothing of it was kept."""


class RegistryAuthError(ImageError):
    """The registry wants credentials we lack, or refused the ones we sent."""


class RegistryUnavailable(ImageError, Retryable):
    """Retryable: the registry could not be reached or kept failing (reset, 5xx, 429)."""


class Conflict(ReconcilerError):
    """An object we would create exists and is not ours: it is reported, never touched."""


class LockHeld(ReconcilerError):
    """Another reconciler holds the project's lock: its pid and role, when it said."""

    def __init__(self, message: str, *, pid: int | None = None, role: str = "") -> None:
        super().__init__(message)
        self.pid = pid
        self.role = role


class UnsafePath(ReconcilerError):
    """A path the reconciler would write through, or mount, that another user could change
    (a symbolic link, a directory they own or can write): refused, never followed. The
    message names the path and what to do (SECURITY.md has the rules)."""


class HostResourceError(ReconcilerError):
    """The host refused a file operation for want of a resource or a right: a full disk,
    no free inodes, too many open files, a read-only or unwritable path. Not retried: it
    does not pass by itself; the message names the path and what to do."""


class ControlError(ReconcilerError):
    """A running `reconciler run` could not be asked, or refused the request."""


class NoRun(ControlError):
    """No `reconciler run` holds the project, and the command needs one."""
