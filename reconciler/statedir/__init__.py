"""The state dir's permission model, and the file operations that keep to it.

The state dir (`/var/lib/reconciler` as root) holds what only its owner may read or
change: locks, the control socket, unit records with ENV values, logs, named volumes, the
embedded containerd. So (SECURITY.md has the whole model):

- `check`: a command refuses a state dir another user could change, at its start;
- `umask`: the process creates everything private (0o077); the programs it starts for
  others (containerd, services) get the umask they would have had;
- `tree` and `files`: everything under the state dir is reached from it one component
  at a time without following a link, made 0700 (directories) and 0600 (files);
- `trust`: the rules, which also decide whether a bind-mount source's links are followed.
"""
