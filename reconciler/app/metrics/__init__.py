"""`run`'s Prometheus metrics: where they are served (`address`), what they count and
read (`collector`), and the HTTP server that answers scrapes (`server`). Only `run` with
`--metrics-address` loads `collector` and `server`, and with them prometheus-client."""
