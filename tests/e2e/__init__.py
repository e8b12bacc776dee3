"""End-to-end tests against a private containerd, runc and a local registry."""
