"""The Orchfile language: parse, merge overlays, expand ARGs, validate, render.

Knows nothing of containers. `load()` turns files into a resolved `Document`, exactly as
the reference `orch parse` would; `semantic` turns that into the desired state.
"""
