"""Secrets as a type: ENV values and ENV_FILE content never print themselves.

A `Secret` wraps a string whose `repr` and `str` are redacted, so a secret that slips
into a log line, an exception message or a dataclass repr shows ``'***'`` instead of
its value. Code that really needs the value (the OCI spec builder, the host driver,
`render`) asks for it with `reveal()`, which makes every such place easy to find.
"""

from __future__ import annotations

from typing import Final

REDACTED: Final = "***"


class Secret:
    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return f"Secret({REDACTED!r})"

    def __str__(self) -> str:
        return REDACTED

    def __format__(self, spec: str) -> str:
        return REDACTED

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a Secret is not picklable")
