"""The wiring: settings, drivers, the engine, the watcher and the lock, for the CLI."""
