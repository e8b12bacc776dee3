"""Builders for containerd's filter strings (``labels."k"=="v"``).

Why this exists: containerd's filter lexer rejects unquoted keys with ``-`` or ``/`` and
reads a value starting with ``/`` as a quoted literal (docs/containerd.md, "The calls the code
makes"). Quoting
every key part and value with double quotes is always accepted, so callers describe
*what* to match and never hand-assemble the syntax.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def quote(text: str) -> str:
    """``text`` as a double-quoted filter literal (backslash escapes, like Go's strconv)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def equals(field: str, value: str) -> str:
    """``field=="value"``; ``field`` is a dotted path of plain identifiers (``namespace``)."""
    return f"{field}=={quote(value)}"


def label_equals(key: str, value: str) -> str:
    """Matches objects whose label ``key`` is ``value``."""
    return f"labels.{quote(key)}=={quote(value)}"


def all_of(*conditions: str) -> str:
    """One filter requiring every condition (containerd's ``,`` means AND)."""
    return ",".join(conditions)


def labels_match(labels: Mapping[str, str]) -> str:
    """One filter requiring every label in ``labels``; empty string matches everything."""
    return all_of(*(label_equals(key, value) for key, value in sorted(labels.items())))


def request_filters(labels: Mapping[str, str] | None, filters: Sequence[str]) -> list[str]:
    """The ``filters`` field of a List request: all of ``labels`` and any of ``filters``.

    containerd ORs the strings of the list and ANDs the conditions inside one string, so
    the label conditions are added to each alternative.
    """
    label_filter = labels_match(labels or {})
    if not filters:
        return [label_filter] if label_filter else []
    if not label_filter:
        return list(filters)
    return [all_of(label_filter, alternative) for alternative in filters]
