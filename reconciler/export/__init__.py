"""`reconciler export kubernetes`: the same stack as Kubernetes manifests.

Pure: the desired model in (plus the ENV_FILEs it names, read by `envfiles`), typed
Kubernetes objects and findings out (`stack.export_stack`), text last (`output`). It
never touches a runtime; an import-linter contract keeps drivers, controllers, the app
and the CLI out. What each directive becomes, and why some become nothing, is the table
in docs/kubernetes.md; each module's docstring says the same for its directives.

Nothing is re-exported here: importing one module (`options`, for the command line's
choices and defaults) must not load the whole mapping.
"""
