"""`run` under systemd (`Type=notify`): the notification protocol itself (`notify`) and
what `run` says through it, when (`readiness`)."""
