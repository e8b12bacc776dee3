"""`reconciler export kubernetes`: the same stack as Kubernetes manifests.

Pure: the desired model in (plus the ENV_FILEs it names, read by `envfiles`), typed
Kubernetes objects and findings out (`stack.export_stack`), text last (`output`). It
never touches a runtime; an import-linter contract keeps drivers, controllers, the app
and the CLI out. What each directive becomes, and why some become nothing, is the table
in docs/kubernetes.md; each module's docstring says the same for its directives.
"""

from reconciler.export.envfiles import read_exported_env_files
from reconciler.export.findings import Directive, Finding, Severity
from reconciler.export.options import ExportOptions, Exposure, ImageMapping
from reconciler.export.output import ManifestFile, OutputFormat, manifest_files, render
from reconciler.export.stack import Export, export_stack

__all__ = [
    "Directive",
    "Export",
    "ExportOptions",
    "Exposure",
    "Finding",
    "ImageMapping",
    "ManifestFile",
    "OutputFormat",
    "Severity",
    "export_stack",
    "manifest_files",
    "read_exported_env_files",
    "render",
]
