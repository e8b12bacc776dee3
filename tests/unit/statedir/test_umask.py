"""The process's umask is private; what it starts for others gets the one it was given.

Each case runs in a fresh interpreter: the umask is the process's, and this one's must
stay as pytest found it."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import os, subprocess
from reconciler.statedir import umask
os.umask(0o002)
umask.make_private()
umask.make_private()
print(oct(umask.current()), oct(umask.for_others()))
child = subprocess.run(["sh", "-c", "umask"], capture_output=True, text=True,
                       umask=umask.for_others(), check=True)
print(child.stdout.strip())
"""


def test_the_process_is_private_and_remembers_the_umask_it_was_started_with() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)

    assert done.stdout.split() == ["0o77", "0o2", "0002"]
