"""Typed wrappers, one module per containerd gRPC service the reconciler uses."""
