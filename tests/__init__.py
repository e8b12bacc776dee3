"""The reconciler's tests: ``unit`` (pure logic, no daemon) and ``e2e`` (real containerd)."""
