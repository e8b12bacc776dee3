"""Why a connection failed, in the words a person reads: `connection refused`.

Why this exists: an HTTP client wraps the operating system's error once or twice (httpx
around httpcore around anyio's "All connection attempts failed" around the socket's
`ConnectionRefusedError`), and the outer messages either hide the reason or repeat the
address the caller already names. Health checks and registry pulls both report the
innermost `OSError` instead. A TLS failure is an `OSError` whose errno is OpenSSL's
(1, which `os.strerror` calls "operation not permitted"), so it says what OpenSSL found.
"""

from __future__ import annotations

import os
import socket
import ssl
from collections.abc import Iterator

_MAX_DEPTH = 16


def _chain(error: BaseException) -> Iterator[BaseException]:
    """`error` and what caused it, outermost first; a group stands for its first member."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen and len(seen) < _MAX_DEPTH:
        seen.add(id(current))
        yield current
        if isinstance(current, BaseExceptionGroup) and current.exceptions:
            current = current.exceptions[0]
        else:
            current = current.__cause__ or current.__context__


def why_connection_failed(error: BaseException) -> str:
    """The innermost `OSError`'s reason, lower case; else the error's own text."""
    cause = error
    for link in _chain(error):
        if isinstance(link, OSError):
            cause = link
    if isinstance(cause, TimeoutError):
        return "timed out"
    if isinstance(cause, ssl.SSLCertVerificationError) and cause.verify_message:
        return f"certificate verify failed: {cause.verify_message}"
    if isinstance(cause, ssl.SSLError) and cause.reason:
        return f"TLS: {cause.reason.lower().replace('_', ' ')}"
    if isinstance(cause, socket.gaierror) and cause.strerror:
        return cause.strerror.lower()  # negative codes that os.strerror does not know
    if isinstance(cause, OSError) and cause.errno and cause.errno > 0:
        return os.strerror(cause.errno).lower()  # the error's own text names the address
    if isinstance(cause, OSError) and cause.strerror:
        return cause.strerror.lower()
    return str(cause) or type(cause).__name__
