"""The model's dataclasses to the control API's protobuf messages and back, generically.

Why this exists: the API carries the typed model (statuses, journal entries, outcomes)
unchanged, so that the CLI decides on the same typed values the engine produced. The
proto (`api/reconciler_api/control.proto`) mirrors each dataclass field for field, and
every enum value is `<ENUM_NAME>_<MEMBER>`; these two functions walk the dataclass
fields and their type hints instead of hand-copying each message both ways.

Rules: None is an unset field (enum value 0, an absent message, an unset `optional`);
`datetime` is a Timestamp (UTC), `timedelta` a Duration, a tuple a repeated field.
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import re
import types
import typing
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from google.protobuf.message import Message

T = TypeVar("T")


def to_message(value: Any, message: Message) -> Message:
    """Fill `message` from the dataclass instance `value`; returns `message`."""
    for field in dataclasses.fields(value):
        _set(message, field.name, getattr(value, field.name))
    return message


def from_message(cls: type[T], message: Message) -> T:
    """The dataclass `cls` read back from `message`."""
    hints = _hints(typing.cast(type, cls))
    values = {
        field.name: _get(message, field.name, hints[field.name])
        for field in dataclasses.fields(cls)  # type: ignore[arg-type]
    }
    return cls(**values)


def enum_number(message: Message, name: str, member: enum.Enum) -> int:
    values = _enum_type(message, name).values_by_name
    return int(values[f"{_prefix(type(member))}_{member.name}"].number)


def _enum_type(message: Message, name: str) -> Any:
    kind = message.DESCRIPTOR.fields_by_name[name].enum_type
    if kind is None:
        raise TypeError(f"{message.DESCRIPTOR.name}.{name} is not an enum field")
    return kind


def _set(message: Message, name: str, value: Any) -> None:
    if value is None:
        return
    match value:
        case enum.Enum():
            setattr(message, name, enum_number(message, name, value))
        case bool() | int() | float() | str():
            setattr(message, name, value)
        case datetime():
            getattr(message, name).FromDatetime(value.astimezone(UTC))
        case timedelta():
            getattr(message, name).FromTimedelta(value)
        case tuple() | list():
            repeated = getattr(message, name)
            for item in value:
                if dataclasses.is_dataclass(item):
                    to_message(item, repeated.add())
                else:
                    repeated.append(item)
        case _ if dataclasses.is_dataclass(value):
            to_message(value, getattr(message, name))
        case _:
            raise TypeError(f"{name}: cannot put {type(value).__name__} on the wire")


def _get(message: Message, name: str, hint: Any) -> Any:
    kind, optional = _unwrap(hint)
    field = message.DESCRIPTOR.fields_by_name[name]
    if optional and field.has_presence and not message.HasField(name):
        return None
    raw = getattr(message, name)
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        number = int(raw)
        if number == 0:
            return None
        member = _enum_type(message, name).values_by_number[number].name
        return kind[member.removeprefix(f"{_prefix(kind)}_")]
    if kind is datetime:
        return raw.ToDatetime(tzinfo=UTC)
    if kind is timedelta:
        return raw.ToTimedelta()
    if typing.get_origin(kind) is tuple:
        item = typing.get_args(kind)[0]
        if dataclasses.is_dataclass(item):
            return tuple(from_message(item, m) for m in raw)  # type: ignore[arg-type]
        return tuple(raw)
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        return from_message(kind, raw)
    return raw


def _unwrap(hint: Any) -> tuple[Any, bool]:
    """(the type, whether None is allowed) of a hint like `X | None`."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return args[0], len(args) < len(typing.get_args(hint))
    return hint, False


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


@functools.cache
def _prefix(kind: type[enum.Enum]) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", kind.__name__).upper()
