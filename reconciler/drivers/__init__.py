"""Drivers: the only code that talks to a runtime (containerd over gRPC, host processes)."""
