"""Typed values shared by every layer: ids, units, secrets, desired and observed state."""
