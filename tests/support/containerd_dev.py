"""Command line behind ``hack/containerd-dev``: a private containerd for development.

hack/containerd-dev start DIR   start it (config, root, state, socket, log under DIR)
hack/containerd-dev stop DIR    stop the daemon recorded in DIR/containerd.pid
hack/containerd-dev env DIR     print export lines: eval "$(hack/containerd-dev env DIR)"
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from tests.support.containerd import PrivateContainerd


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="hack/containerd-dev", description="Run a private containerd under DIR."
    )
    parser.add_argument("command", choices=["start", "stop", "env"])
    parser.add_argument("directory", type=Path, metavar="DIR")
    args = parser.parse_args(argv)
    daemon = PrivateContainerd(directory=args.directory.resolve())
    match args.command:
        case "start":
            try:
                pid = daemon.start()
            except RuntimeError as error:
                print(error, file=sys.stderr)
                return 1
            print(f"containerd pid {pid} on {daemon.address} (log {daemon.log_path})")
        case "stop":
            if daemon.pid() is None:
                print(f"no containerd running for {daemon.directory}")
            daemon.stop()
        case "env":
            for key, value in daemon.env().items():
                print(f"export {key}={shlex.quote(value)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
