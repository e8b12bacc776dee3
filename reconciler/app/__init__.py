"""The wiring layer between the command line and the controllers.

Why this exists: ``run`` and ``apply`` need an event loop's worth of machinery that is
neither a decision (controllers) nor a runtime call (drivers): the engine and its
passes, the clock, the file watcher, the project lock and the choice of containerd.
Each lives in its own module here; the CLI composes them and never reaches below this
package.
"""
