"""Secrets as a type: ENV values and ENV_FILE content never print themselves.

A `Secret` wraps a string whose `repr` and `str` are redacted, so a secret that slips
into a log line, an exception message or a dataclass repr shows ``'***'`` instead of
its value. Text that comes from elsewhere and may quote a value (a runtime's error) is
passed through `redact` with the values it could quote. Code that really needs the
value (the OCI spec builder, the host driver, `render`) asks for it with `reveal()`,
which makes every such place easy to find.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

REDACTED: Final = "***"
# Shorter values are not searched for: redacting every "1" or "on" in a message would
# hide what it says and protect nothing a guess would not find.
MIN_REDACTED_LENGTH: Final = 4


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


def redact(text: str, secrets: Iterable[Secret]) -> str:
    """`text` with every secret value in it (and every piece of one between NUL bytes,
    as runc quotes them) replaced by `***`: for messages that come from elsewhere (the
    runtime, a RELOAD command) and could quote one."""
    pieces = {
        piece
        for secret in secrets
        for piece in (secret.reveal(), *secret.reveal().split("\x00"))
        if len(piece) >= MIN_REDACTED_LENGTH
    }
    for piece in sorted(pieces, key=len, reverse=True):
        text = text.replace(piece, REDACTED)
    return text
