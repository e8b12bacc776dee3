"""Fixtures for the Orchfile language tests: parse texts in memory, look at the result.

Texts are named as a user would name them: the first `Orchfile`, the next ones
`overlay1`, `overlay2`, ... (a `SourceFile` passed as is keeps its own name). Every
helper goes through `load_sources`, the same entry point the CLI uses.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from reconciler.errors import Diagnostic, InvalidOrchfile
from reconciler.orchfile.document import Document
from reconciler.orchfile.loader import SourceFile, load_sources
from reconciler.orchfile.render import to_json

Source = str | SourceFile


def file_name(index: int) -> str:
    return "Orchfile" if index == 0 else f"overlay{index}"


def as_sources(texts: tuple[Source, ...]) -> list[SourceFile]:
    return [
        text if isinstance(text, SourceFile) else SourceFile(name=file_name(i), text=text)
        for i, text in enumerate(texts)
    ]


def _load(
    *texts: Source, args: Mapping[str, str] | None = None, environ: Mapping[str, str] | None = None
) -> Document:
    return load_sources(as_sources(texts), args or {}, environ or {})


def _tree(
    *texts: Source, args: Mapping[str, str] | None = None, environ: Mapping[str, str] | None = None
) -> dict[str, Any]:
    tree: dict[str, Any] = json.loads(to_json(_load(*texts, args=args, environ=environ)))
    return tree


def _service(*texts: Source, **kwargs: Any) -> dict[str, Any]:
    services = _tree(*texts, **kwargs)["services"]
    assert len(services) == 1, services
    service: dict[str, Any] = services[0]
    return service


def _diagnostics(
    *texts: Source, args: Mapping[str, str] | None = None, environ: Mapping[str, str] | None = None
) -> list[Diagnostic]:
    with pytest.raises(InvalidOrchfile) as raised:
        _load(*texts, args=args, environ=environ)
    return list(raised.value.diagnostics)


def _errors(*texts: Source, **kwargs: Any) -> list[str]:
    return [str(d) for d in _diagnostics(*texts, **kwargs)]


@pytest.fixture
def load() -> Callable[..., Document]:
    """load(*texts, args=..., environ=...) -> the resolved Document."""
    return _load


@pytest.fixture
def tree() -> Callable[..., dict[str, Any]]:
    """tree(*texts, ...) -> the rendered JSON, parsed back into a dict."""
    return _tree


@pytest.fixture
def service() -> Callable[..., dict[str, Any]]:
    """service(*texts, ...) -> the JSON object of the only service of the stack."""
    return _service


@pytest.fixture
def diagnostics() -> Callable[..., list[Diagnostic]]:
    """diagnostics(*texts, ...) -> the diagnostics of the InvalidOrchfile it must raise."""
    return _diagnostics


@pytest.fixture
def errors() -> Callable[..., list[str]]:
    """errors(*texts, ...) -> each diagnostic as the CLI prints it, `FILE:LINE: message`."""
    return _errors
