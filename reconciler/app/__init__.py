"""The wiring layer between the command line and the controllers.

Why this exists: ``run`` and ``apply`` need an event loop's worth of machinery that is
neither a decision (controllers) nor a runtime call (drivers): the engine and its
passes, the clock, the file watcher, the project lock and the choice of containerd.
Each lives in its own module here, and the CLI reaches the runtime only through them.

The CLI does import below this package for what is not runtime work: the language
(`orchfile`, for `render`, `validate` and `export`), presentation (`report`), `export`,
the typed values it prints (`model`, and `controllers.actions`/`controllers.projection`
for `plan`, `controllers.leaks.Scope` for `leak-check`) and the pull progress type of the
containerd driver (`drivers.containerd.images.ingest.BlobProgress`). The layers contract
in pyproject.toml allows a layer to import any layer below it (docs/architecture.md,
"The layering contracts").
"""
