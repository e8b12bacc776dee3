import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ServiceMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SERVICE_MODE_UNSET: _ClassVar[ServiceMode]
    SERVICE_MODE_CONTAINER: _ClassVar[ServiceMode]
    SERVICE_MODE_HOST: _ClassVar[ServiceMode]

class DesiredState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DESIRED_STATE_UNSET: _ClassVar[DesiredState]
    DESIRED_STATE_RUNNING: _ClassVar[DesiredState]
    DESIRED_STATE_COMPLETED: _ClassVar[DesiredState]
    DESIRED_STATE_DISABLED: _ClassVar[DesiredState]
    DESIRED_STATE_UNKNOWN: _ClassVar[DesiredState]

class ServiceState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SERVICE_STATE_UNSET: _ClassVar[ServiceState]
    SERVICE_STATE_PENDING: _ClassVar[ServiceState]
    SERVICE_STATE_BLOCKED: _ClassVar[ServiceState]
    SERVICE_STATE_PULLING: _ClassVar[ServiceState]
    SERVICE_STATE_CREATING: _ClassVar[ServiceState]
    SERVICE_STATE_STARTING: _ClassVar[ServiceState]
    SERVICE_STATE_RUNNING: _ClassVar[ServiceState]
    SERVICE_STATE_STOPPING: _ClassVar[ServiceState]
    SERVICE_STATE_EXITED: _ClassVar[ServiceState]
    SERVICE_STATE_COMPLETED: _ClassVar[ServiceState]
    SERVICE_STATE_BACKOFF: _ClassVar[ServiceState]
    SERVICE_STATE_FAILED: _ClassVar[ServiceState]
    SERVICE_STATE_DISABLED: _ClassVar[ServiceState]

class Health(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    HEALTH_UNSET: _ClassVar[Health]
    HEALTH_HEALTHY: _ClassVar[Health]
    HEALTH_UNHEALTHY: _ClassVar[Health]
    HEALTH_STARTING: _ClassVar[Health]
    HEALTH_NONE: _ClassVar[Health]

class Drift(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DRIFT_UNSET: _ClassVar[Drift]
    DRIFT_CONFIG_CHANGED: _ClassVar[Drift]
    DRIFT_CONTAINER_MISSING: _ClassVar[Drift]
    DRIFT_TASK_MISSING: _ClassVar[Drift]
    DRIFT_IMAGE_CHANGED: _ClassVar[Drift]

class Outlook(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OUTLOOK_UNSET: _ClassVar[Outlook]
    OUTLOOK_SETTLED: _ClassVar[Outlook]
    OUTLOOK_PROGRESSING: _ClassVar[Outlook]
    OUTLOOK_WAITING: _ClassVar[Outlook]
    OUTLOOK_STUCK: _ClassVar[Outlook]

class Verb(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VERB_UNSET: _ClassVar[Verb]
    VERB_CREATE: _ClassVar[Verb]
    VERB_START: _ClassVar[Verb]
    VERB_RESTART: _ClassVar[Verb]
    VERB_RECREATE: _ClassVar[Verb]
    VERB_RELOAD: _ClassVar[Verb]
    VERB_REMOVE: _ClassVar[Verb]
    VERB_RECORD: _ClassVar[Verb]

class Relation(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RELATION_UNSET: _ClassVar[Relation]
    RELATION_REQUIRES: _ClassVar[Relation]
    RELATION_AFTER: _ClassVar[Relation]

class ExitOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    EXIT_OUTCOME_UNSET: _ClassVar[ExitOutcome]
    EXIT_OUTCOME_RESTART: _ClassVar[ExitOutcome]
    EXIT_OUTCOME_BACKOFF: _ClassVar[ExitOutcome]
    EXIT_OUTCOME_STAY: _ClassVar[ExitOutcome]
    EXIT_OUTCOME_COMPLETED: _ClassVar[ExitOutcome]
    EXIT_OUTCOME_GAVE_UP: _ClassVar[ExitOutcome]
SERVICE_MODE_UNSET: ServiceMode
SERVICE_MODE_CONTAINER: ServiceMode
SERVICE_MODE_HOST: ServiceMode
DESIRED_STATE_UNSET: DesiredState
DESIRED_STATE_RUNNING: DesiredState
DESIRED_STATE_COMPLETED: DesiredState
DESIRED_STATE_DISABLED: DesiredState
DESIRED_STATE_UNKNOWN: DesiredState
SERVICE_STATE_UNSET: ServiceState
SERVICE_STATE_PENDING: ServiceState
SERVICE_STATE_BLOCKED: ServiceState
SERVICE_STATE_PULLING: ServiceState
SERVICE_STATE_CREATING: ServiceState
SERVICE_STATE_STARTING: ServiceState
SERVICE_STATE_RUNNING: ServiceState
SERVICE_STATE_STOPPING: ServiceState
SERVICE_STATE_EXITED: ServiceState
SERVICE_STATE_COMPLETED: ServiceState
SERVICE_STATE_BACKOFF: ServiceState
SERVICE_STATE_FAILED: ServiceState
SERVICE_STATE_DISABLED: ServiceState
HEALTH_UNSET: Health
HEALTH_HEALTHY: Health
HEALTH_UNHEALTHY: Health
HEALTH_STARTING: Health
HEALTH_NONE: Health
DRIFT_UNSET: Drift
DRIFT_CONFIG_CHANGED: Drift
DRIFT_CONTAINER_MISSING: Drift
DRIFT_TASK_MISSING: Drift
DRIFT_IMAGE_CHANGED: Drift
OUTLOOK_UNSET: Outlook
OUTLOOK_SETTLED: Outlook
OUTLOOK_PROGRESSING: Outlook
OUTLOOK_WAITING: Outlook
OUTLOOK_STUCK: Outlook
VERB_UNSET: Verb
VERB_CREATE: Verb
VERB_START: Verb
VERB_RESTART: Verb
VERB_RECREATE: Verb
VERB_RELOAD: Verb
VERB_REMOVE: Verb
VERB_RECORD: Verb
RELATION_UNSET: Relation
RELATION_REQUIRES: Relation
RELATION_AFTER: Relation
EXIT_OUTCOME_UNSET: ExitOutcome
EXIT_OUTCOME_RESTART: ExitOutcome
EXIT_OUTCOME_BACKOFF: ExitOutcome
EXIT_OUTCOME_STAY: ExitOutcome
EXIT_OUTCOME_COMPLETED: ExitOutcome
EXIT_OUTCOME_GAVE_UP: ExitOutcome

class Blocker(_message.Message):
    __slots__ = ("on", "relation", "state", "health", "outlook", "missing")
    ON_FIELD_NUMBER: _ClassVar[int]
    RELATION_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    HEALTH_FIELD_NUMBER: _ClassVar[int]
    OUTLOOK_FIELD_NUMBER: _ClassVar[int]
    MISSING_FIELD_NUMBER: _ClassVar[int]
    on: str
    relation: Relation
    state: ServiceState
    health: Health
    outlook: Outlook
    missing: bool
    def __init__(self, on: _Optional[str] = ..., relation: _Optional[_Union[Relation, str]] = ..., state: _Optional[_Union[ServiceState, str]] = ..., health: _Optional[_Union[Health, str]] = ..., outlook: _Optional[_Union[Outlook, str]] = ..., missing: _Optional[bool] = ...) -> None: ...

class Activity(_message.Message):
    __slots__ = ("verb", "cause", "since", "step")
    VERB_FIELD_NUMBER: _ClassVar[int]
    CAUSE_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    verb: Verb
    cause: str
    since: _timestamp_pb2.Timestamp
    step: ServiceState
    def __init__(self, verb: _Optional[_Union[Verb, str]] = ..., cause: _Optional[str] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., step: _Optional[_Union[ServiceState, str]] = ...) -> None: ...

class ServiceStatus(_message.Message):
    __slots__ = ("name", "mode", "desired", "state", "outlook", "health", "health_detail", "pid", "restarts", "exit_code", "oom_killed", "image", "drift", "reason", "since", "blocker", "planned", "activity", "backoff_until", "last_error")
    NAME_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    DESIRED_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    OUTLOOK_FIELD_NUMBER: _ClassVar[int]
    HEALTH_FIELD_NUMBER: _ClassVar[int]
    HEALTH_DETAIL_FIELD_NUMBER: _ClassVar[int]
    PID_FIELD_NUMBER: _ClassVar[int]
    RESTARTS_FIELD_NUMBER: _ClassVar[int]
    EXIT_CODE_FIELD_NUMBER: _ClassVar[int]
    OOM_KILLED_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    DRIFT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    BLOCKER_FIELD_NUMBER: _ClassVar[int]
    PLANNED_FIELD_NUMBER: _ClassVar[int]
    ACTIVITY_FIELD_NUMBER: _ClassVar[int]
    BACKOFF_UNTIL_FIELD_NUMBER: _ClassVar[int]
    LAST_ERROR_FIELD_NUMBER: _ClassVar[int]
    name: str
    mode: ServiceMode
    desired: DesiredState
    state: ServiceState
    outlook: Outlook
    health: Health
    health_detail: str
    pid: int
    restarts: int
    exit_code: int
    oom_killed: bool
    image: str
    drift: Drift
    reason: str
    since: _timestamp_pb2.Timestamp
    blocker: Blocker
    planned: Verb
    activity: Activity
    backoff_until: _timestamp_pb2.Timestamp
    last_error: str
    def __init__(self, name: _Optional[str] = ..., mode: _Optional[_Union[ServiceMode, str]] = ..., desired: _Optional[_Union[DesiredState, str]] = ..., state: _Optional[_Union[ServiceState, str]] = ..., outlook: _Optional[_Union[Outlook, str]] = ..., health: _Optional[_Union[Health, str]] = ..., health_detail: _Optional[str] = ..., pid: _Optional[int] = ..., restarts: _Optional[int] = ..., exit_code: _Optional[int] = ..., oom_killed: _Optional[bool] = ..., image: _Optional[str] = ..., drift: _Optional[_Union[Drift, str]] = ..., reason: _Optional[str] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., blocker: _Optional[_Union[Blocker, _Mapping]] = ..., planned: _Optional[_Union[Verb, str]] = ..., activity: _Optional[_Union[Activity, _Mapping]] = ..., backoff_until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_error: _Optional[str] = ...) -> None: ...

class OrchfileStatus(_message.Message):
    __slots__ = ("files", "valid", "error")
    FILES_FIELD_NUMBER: _ClassVar[int]
    VALID_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    files: _containers.RepeatedScalarFieldContainer[str]
    valid: bool
    error: str
    def __init__(self, files: _Optional[_Iterable[str]] = ..., valid: _Optional[bool] = ..., error: _Optional[str] = ...) -> None: ...

class Leaks(_message.Message):
    __slots__ = ("tasks", "containers", "snapshots", "leases")
    TASKS_FIELD_NUMBER: _ClassVar[int]
    CONTAINERS_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOTS_FIELD_NUMBER: _ClassVar[int]
    LEASES_FIELD_NUMBER: _ClassVar[int]
    tasks: _containers.RepeatedScalarFieldContainer[str]
    containers: _containers.RepeatedScalarFieldContainer[str]
    snapshots: _containers.RepeatedScalarFieldContainer[str]
    leases: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, tasks: _Optional[_Iterable[str]] = ..., containers: _Optional[_Iterable[str]] = ..., snapshots: _Optional[_Iterable[str]] = ..., leases: _Optional[_Iterable[str]] = ...) -> None: ...

class Load(_message.Message):
    __slots__ = ("at", "digest")
    AT_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    at: _timestamp_pb2.Timestamp
    digest: str
    def __init__(self, at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., digest: _Optional[str] = ...) -> None: ...

class RejectedSave(_message.Message):
    __slots__ = ("at", "error", "held")
    AT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    HELD_FIELD_NUMBER: _ClassVar[int]
    at: _timestamp_pb2.Timestamp
    error: str
    held: bool
    def __init__(self, at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., error: _Optional[str] = ..., held: _Optional[bool] = ...) -> None: ...

class RuntimeReach(_message.Message):
    __slots__ = ("mode", "reachable", "since", "reason")
    MODE_FIELD_NUMBER: _ClassVar[int]
    REACHABLE_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    mode: ServiceMode
    reachable: bool
    since: _timestamp_pb2.Timestamp
    reason: str
    def __init__(self, mode: _Optional[_Union[ServiceMode, str]] = ..., reachable: _Optional[bool] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...

class ReconcilerInfo(_message.Message):
    __slots__ = ("pid", "started_at", "files", "last_load", "rejected_save", "passes", "last_pass_at", "last_pass_duration", "runtimes")
    PID_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    LAST_LOAD_FIELD_NUMBER: _ClassVar[int]
    REJECTED_SAVE_FIELD_NUMBER: _ClassVar[int]
    PASSES_FIELD_NUMBER: _ClassVar[int]
    LAST_PASS_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_PASS_DURATION_FIELD_NUMBER: _ClassVar[int]
    RUNTIMES_FIELD_NUMBER: _ClassVar[int]
    pid: int
    started_at: _timestamp_pb2.Timestamp
    files: _containers.RepeatedScalarFieldContainer[str]
    last_load: Load
    rejected_save: RejectedSave
    passes: int
    last_pass_at: _timestamp_pb2.Timestamp
    last_pass_duration: _duration_pb2.Duration
    runtimes: _containers.RepeatedCompositeFieldContainer[RuntimeReach]
    def __init__(self, pid: _Optional[int] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., files: _Optional[_Iterable[str]] = ..., last_load: _Optional[_Union[Load, _Mapping]] = ..., rejected_save: _Optional[_Union[RejectedSave, _Mapping]] = ..., passes: _Optional[int] = ..., last_pass_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_pass_duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., runtimes: _Optional[_Iterable[_Union[RuntimeReach, _Mapping]]] = ...) -> None: ...

class StatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class StatusReport(_message.Message):
    __slots__ = ("project", "namespace", "converged", "orchfile", "services", "leaks", "runtime_error", "reconciler")
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    CONVERGED_FIELD_NUMBER: _ClassVar[int]
    ORCHFILE_FIELD_NUMBER: _ClassVar[int]
    SERVICES_FIELD_NUMBER: _ClassVar[int]
    LEAKS_FIELD_NUMBER: _ClassVar[int]
    RUNTIME_ERROR_FIELD_NUMBER: _ClassVar[int]
    RECONCILER_FIELD_NUMBER: _ClassVar[int]
    project: str
    namespace: str
    converged: bool
    orchfile: OrchfileStatus
    services: _containers.RepeatedCompositeFieldContainer[ServiceStatus]
    leaks: Leaks
    runtime_error: str
    reconciler: ReconcilerInfo
    def __init__(self, project: _Optional[str] = ..., namespace: _Optional[str] = ..., converged: _Optional[bool] = ..., orchfile: _Optional[_Union[OrchfileStatus, _Mapping]] = ..., services: _Optional[_Iterable[_Union[ServiceStatus, _Mapping]]] = ..., leaks: _Optional[_Union[Leaks, _Mapping]] = ..., runtime_error: _Optional[str] = ..., reconciler: _Optional[_Union[ReconcilerInfo, _Mapping]] = ...) -> None: ...

class ApplyRequest(_message.Message):
    __slots__ = ("files", "args", "wait", "timeout", "network", "log_max_size", "log_max_files")
    class ArgsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    FILES_FIELD_NUMBER: _ClassVar[int]
    ARGS_FIELD_NUMBER: _ClassVar[int]
    WAIT_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    NETWORK_FIELD_NUMBER: _ClassVar[int]
    LOG_MAX_SIZE_FIELD_NUMBER: _ClassVar[int]
    LOG_MAX_FILES_FIELD_NUMBER: _ClassVar[int]
    files: _containers.RepeatedScalarFieldContainer[str]
    args: _containers.ScalarMap[str, str]
    wait: bool
    timeout: _duration_pb2.Duration
    network: str
    log_max_size: int
    log_max_files: int
    def __init__(self, files: _Optional[_Iterable[str]] = ..., args: _Optional[_Mapping[str, str]] = ..., wait: _Optional[bool] = ..., timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., network: _Optional[str] = ..., log_max_size: _Optional[int] = ..., log_max_files: _Optional[int] = ...) -> None: ...

class RestartRequest(_message.Message):
    __slots__ = ("services", "timeout")
    SERVICES_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    services: _containers.RepeatedScalarFieldContainer[str]
    timeout: _duration_pb2.Duration
    def __init__(self, services: _Optional[_Iterable[str]] = ..., timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class Outcome(_message.Message):
    __slots__ = ("report", "converged", "timed_out")
    REPORT_FIELD_NUMBER: _ClassVar[int]
    CONVERGED_FIELD_NUMBER: _ClassVar[int]
    TIMED_OUT_FIELD_NUMBER: _ClassVar[int]
    report: StatusReport
    converged: bool
    timed_out: bool
    def __init__(self, report: _Optional[_Union[StatusReport, _Mapping]] = ..., converged: _Optional[bool] = ..., timed_out: _Optional[bool] = ...) -> None: ...

class DownRequest(_message.Message):
    __slots__ = ("grace", "volumes")
    GRACE_FIELD_NUMBER: _ClassVar[int]
    VOLUMES_FIELD_NUMBER: _ClassVar[int]
    grace: _duration_pb2.Duration
    volumes: bool
    def __init__(self, grace: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., volumes: _Optional[bool] = ...) -> None: ...

class DownResult(_message.Message):
    __slots__ = ("failures", "left", "unreachable", "kept_volumes", "removed_volumes")
    FAILURES_FIELD_NUMBER: _ClassVar[int]
    LEFT_FIELD_NUMBER: _ClassVar[int]
    UNREACHABLE_FIELD_NUMBER: _ClassVar[int]
    KEPT_VOLUMES_FIELD_NUMBER: _ClassVar[int]
    REMOVED_VOLUMES_FIELD_NUMBER: _ClassVar[int]
    failures: _containers.RepeatedScalarFieldContainer[str]
    left: _containers.RepeatedScalarFieldContainer[str]
    unreachable: str
    kept_volumes: _containers.RepeatedScalarFieldContainer[str]
    removed_volumes: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, failures: _Optional[_Iterable[str]] = ..., left: _Optional[_Iterable[str]] = ..., unreachable: _Optional[str] = ..., kept_volumes: _Optional[_Iterable[str]] = ..., removed_volumes: _Optional[_Iterable[str]] = ...) -> None: ...

class EventsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class DesiredLoaded(_message.Message):
    __slots__ = ("at", "digest", "services", "repaired")
    AT_FIELD_NUMBER: _ClassVar[int]
    DIGEST_FIELD_NUMBER: _ClassVar[int]
    SERVICES_FIELD_NUMBER: _ClassVar[int]
    REPAIRED_FIELD_NUMBER: _ClassVar[int]
    at: _timestamp_pb2.Timestamp
    digest: str
    services: int
    repaired: bool
    def __init__(self, at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., digest: _Optional[str] = ..., services: _Optional[int] = ..., repaired: _Optional[bool] = ...) -> None: ...

class SaveRejected(_message.Message):
    __slots__ = ("at", "error")
    AT_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    at: _timestamp_pb2.Timestamp
    error: str
    def __init__(self, at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., error: _Optional[str] = ...) -> None: ...

class SaveHeld(_message.Message):
    __slots__ = ("at", "files", "services")
    AT_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    SERVICES_FIELD_NUMBER: _ClassVar[int]
    at: _timestamp_pb2.Timestamp
    files: _containers.RepeatedScalarFieldContainer[str]
    services: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., files: _Optional[_Iterable[str]] = ..., services: _Optional[_Iterable[str]] = ...) -> None: ...

class ActionStarted(_message.Message):
    __slots__ = ("at", "service", "verb", "cause")
    AT_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    VERB_FIELD_NUMBER: _ClassVar[int]
    CAUSE_FIELD_NUMBER: _ClassVar[int]
    at: _timestamp_pb2.Timestamp
    service: str
    verb: Verb
    cause: str
    def __init__(self, at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., service: _Optional[str] = ..., verb: _Optional[_Union[Verb, str]] = ..., cause: _Optional[str] = ...) -> None: ...

class ActionFinished(_message.Message):
    __slots__ = ("at", "service", "verb", "cause", "duration", "error", "retrying")
    AT_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    VERB_FIELD_NUMBER: _ClassVar[int]
    CAUSE_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    RETRYING_FIELD_NUMBER: _ClassVar[int]
    at: _timestamp_pb2.Timestamp
    service: str
    verb: Verb
    cause: str
    duration: _duration_pb2.Duration
    error: str
    retrying: bool
    def __init__(self, at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., service: _Optional[str] = ..., verb: _Optional[_Union[Verb, str]] = ..., cause: _Optional[str] = ..., duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., error: _Optional[str] = ..., retrying: _Optional[bool] = ...) -> None: ...

class Stopping(_message.Message):
    __slots__ = ("at", "service", "signal", "grace")
    AT_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    SIGNAL_FIELD_NUMBER: _ClassVar[int]
    GRACE_FIELD_NUMBER: _ClassVar[int]
    at: _timestamp_pb2.Timestamp
    service: str
    signal: str
    grace: _duration_pb2.Duration
    def __init__(self, at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., service: _Optional[str] = ..., signal: _Optional[str] = ..., grace: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class TaskExited(_message.Message):
    __slots__ = ("at", "service", "exit_code", "oom_killed", "outcome", "delay")
    AT_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    EXIT_CODE_FIELD_NUMBER: _ClassVar[int]
    OOM_KILLED_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    DELAY_FIELD_NUMBER: _ClassVar[int]
    at: _timestamp_pb2.Timestamp
    service: str
    exit_code: int
    oom_killed: bool
    outcome: ExitOutcome
    delay: _duration_pb2.Duration
    def __init__(self, at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., service: _Optional[str] = ..., exit_code: _Optional[int] = ..., oom_killed: _Optional[bool] = ..., outcome: _Optional[_Union[ExitOutcome, str]] = ..., delay: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class HealthChanged(_message.Message):
    __slots__ = ("at", "service", "health", "detail")
    AT_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    HEALTH_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    at: _timestamp_pb2.Timestamp
    service: str
    health: Health
    detail: str
    def __init__(self, at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., service: _Optional[str] = ..., health: _Optional[_Union[Health, str]] = ..., detail: _Optional[str] = ...) -> None: ...

class GaveUp(_message.Message):
    __slots__ = ("at", "service", "starts", "interval")
    AT_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    STARTS_FIELD_NUMBER: _ClassVar[int]
    INTERVAL_FIELD_NUMBER: _ClassVar[int]
    at: _timestamp_pb2.Timestamp
    service: str
    starts: int
    interval: _duration_pb2.Duration
    def __init__(self, at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., service: _Optional[str] = ..., starts: _Optional[int] = ..., interval: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class RuntimeLost(_message.Message):
    __slots__ = ("at", "mode", "reason")
    AT_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    at: _timestamp_pb2.Timestamp
    mode: ServiceMode
    reason: str
    def __init__(self, at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., mode: _Optional[_Union[ServiceMode, str]] = ..., reason: _Optional[str] = ...) -> None: ...

class RuntimeBack(_message.Message):
    __slots__ = ("at", "mode", "after")
    AT_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    AFTER_FIELD_NUMBER: _ClassVar[int]
    at: _timestamp_pb2.Timestamp
    mode: ServiceMode
    after: _duration_pb2.Duration
    def __init__(self, at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., mode: _Optional[_Union[ServiceMode, str]] = ..., after: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class Converged(_message.Message):
    __slots__ = ("at", "services")
    AT_FIELD_NUMBER: _ClassVar[int]
    SERVICES_FIELD_NUMBER: _ClassVar[int]
    at: _timestamp_pb2.Timestamp
    services: int
    def __init__(self, at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., services: _Optional[int] = ...) -> None: ...

class Event(_message.Message):
    __slots__ = ("desired_loaded", "save_rejected", "save_held", "action_started", "action_finished", "stopping", "task_exited", "health_changed", "gave_up", "runtime_lost", "runtime_back", "converged", "dropped")
    DESIRED_LOADED_FIELD_NUMBER: _ClassVar[int]
    SAVE_REJECTED_FIELD_NUMBER: _ClassVar[int]
    SAVE_HELD_FIELD_NUMBER: _ClassVar[int]
    ACTION_STARTED_FIELD_NUMBER: _ClassVar[int]
    ACTION_FINISHED_FIELD_NUMBER: _ClassVar[int]
    STOPPING_FIELD_NUMBER: _ClassVar[int]
    TASK_EXITED_FIELD_NUMBER: _ClassVar[int]
    HEALTH_CHANGED_FIELD_NUMBER: _ClassVar[int]
    GAVE_UP_FIELD_NUMBER: _ClassVar[int]
    RUNTIME_LOST_FIELD_NUMBER: _ClassVar[int]
    RUNTIME_BACK_FIELD_NUMBER: _ClassVar[int]
    CONVERGED_FIELD_NUMBER: _ClassVar[int]
    DROPPED_FIELD_NUMBER: _ClassVar[int]
    desired_loaded: DesiredLoaded
    save_rejected: SaveRejected
    save_held: SaveHeld
    action_started: ActionStarted
    action_finished: ActionFinished
    stopping: Stopping
    task_exited: TaskExited
    health_changed: HealthChanged
    gave_up: GaveUp
    runtime_lost: RuntimeLost
    runtime_back: RuntimeBack
    converged: Converged
    dropped: int
    def __init__(self, desired_loaded: _Optional[_Union[DesiredLoaded, _Mapping]] = ..., save_rejected: _Optional[_Union[SaveRejected, _Mapping]] = ..., save_held: _Optional[_Union[SaveHeld, _Mapping]] = ..., action_started: _Optional[_Union[ActionStarted, _Mapping]] = ..., action_finished: _Optional[_Union[ActionFinished, _Mapping]] = ..., stopping: _Optional[_Union[Stopping, _Mapping]] = ..., task_exited: _Optional[_Union[TaskExited, _Mapping]] = ..., health_changed: _Optional[_Union[HealthChanged, _Mapping]] = ..., gave_up: _Optional[_Union[GaveUp, _Mapping]] = ..., runtime_lost: _Optional[_Union[RuntimeLost, _Mapping]] = ..., runtime_back: _Optional[_Union[RuntimeBack, _Mapping]] = ..., converged: _Optional[_Union[Converged, _Mapping]] = ..., dropped: _Optional[int] = ...) -> None: ...
