"""reconciler: a declarative reconciler for containerd driven by an Orchfile."""

__version__ = "0.1.0"
