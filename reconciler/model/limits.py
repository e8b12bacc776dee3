"""The ranges the kernel and runc accept for a service's limits, in one place.

Why this exists: a value outside them is not a runtime surprise but an Orchfile mistake,
and `validate` must say so before anything runs (`MEMORY 1` once made runc refuse every
start; `CPUS 1e308` overflowed the quota). The OCI spec builder and the host cgroups use
the same numbers, so what validation accepts the runtime takes.
"""

from __future__ import annotations

from typing import Final

# CPU limits are a CFS quota over this period (both drivers).
CPU_PERIOD_US: Final = 100_000
# The kernel refuses a quota under 1 ms.
MIN_CPU_QUOTA_US: Final = 1_000
# The kernel's largest CFS quota: (2^(64-20) - 1) µs (kernel/sched/core.c, max_cfs_runtime).
MAX_CPU_QUOTA_US: Final = 2**44 - 1
MAX_CPUS: Final = MAX_CPU_QUOTA_US / CPU_PERIOD_US
# Below this a container cannot even start its runtime's init (Docker refuses it too).
MIN_MEMORY: Final = 6 * 1024 * 1024
# runc and the OCI spec hold the limit in a signed 64-bit integer; the kernel counts pages.
MAX_MEMORY: Final = 2**63 - 4096
# pids.max takes at most PID_MAX_LIMIT (4M), the kernel's largest pid.
MAX_TASKS: Final = 4 * 1024 * 1024
# An rlimit is an unsigned 64-bit value; RLIM_INFINITY is its largest.
MAX_RLIMIT: Final = 2**63 - 1
# The default of /proc/sys/fs/nr_open, the kernel's cap on RLIMIT_NOFILE; a host may raise
# it, which `validate` reads.
DEFAULT_NR_OPEN: Final = 1024 * 1024
