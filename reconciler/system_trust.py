"""The TLS trust our HTTPS clients use: the system's CA store.

Why this exists: httpx would check certificates against certifi's bundle; containerd's
resolver and Python's urllib trust the system's store, which is where
``update-ca-certificates`` puts a private registry's CA. Loaded once per
process: reading the store takes milliseconds, and a health check runs every few seconds.
A context is safe to share between threads once it is set up.
"""

from __future__ import annotations

import functools
import ssl


@functools.cache
def system_trust() -> ssl.SSLContext:
    """A client context verifying against the system's CA store (``SSL_CERT_FILE`` and
    ``SSL_CERT_DIR`` still apply, through OpenSSL)."""
    return ssl.create_default_context()
