"""How a failed connection is named: the innermost reason, once, in lower case."""

from __future__ import annotations

import errno
import socket
import ssl

import httpx

from reconciler.connection_errors import why_connection_failed


def _wrapped(cause: BaseException) -> httpx.ConnectError:
    """`cause` behind the layers httpx puts around it (chained, and in a group)."""
    try:
        try:
            raise ExceptionGroup("All connection attempts failed", [cause])
        except ExceptionGroup as group:
            raise httpx.ConnectError("All connection attempts failed") from group
    except httpx.ConnectError as outer:
        return outer


def test_a_refused_connection_says_so_without_the_address() -> None:
    refused = ConnectionRefusedError(errno.ECONNREFUSED, "Connect call failed ('127.0.0.1', 9)")

    assert why_connection_failed(_wrapped(refused)) == "connection refused"


def test_an_unknown_host_says_the_resolver_did_not_know_it() -> None:
    unknown = socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    assert why_connection_failed(_wrapped(unknown)) == "name or service not known"


def test_an_untrusted_certificate_says_why_not_operation_not_permitted() -> None:
    untrusted = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] ...")
    untrusted.verify_message = "self-signed certificate"

    assert why_connection_failed(_wrapped(untrusted)) == (
        "certificate verify failed: self-signed certificate"
    )


def test_another_tls_failure_names_openssls_reason() -> None:
    mismatch = ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number")
    mismatch.reason = "WRONG_VERSION_NUMBER"

    assert why_connection_failed(_wrapped(mismatch)) == "TLS: wrong version number"


def test_without_an_os_error_the_outer_text_stands() -> None:
    assert why_connection_failed(httpx.ConnectError("no route")) == "no route"
