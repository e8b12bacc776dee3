"""A Secret never shows its value unless asked with reveal()."""

from __future__ import annotations

import pickle
from dataclasses import dataclass

import pytest

from reconciler.model.secret import REDACTED, Secret

VALUE = "hunter2-s3cr3t"


def test_reveal_returns_the_wrapped_value() -> None:
    assert Secret(VALUE).reveal() == VALUE


def test_repr_is_redacted() -> None:
    assert repr(Secret(VALUE)) == "Secret('***')"


def test_str_is_redacted() -> None:
    assert str(Secret(VALUE)) == REDACTED


@pytest.mark.parametrize("spec", ["", "s", ">20", "!r"])
def test_every_way_of_formatting_is_redacted(spec: str) -> None:
    secret = Secret(VALUE)
    text = f"{secret!r}" if spec == "!r" else format(secret, spec)

    assert VALUE not in text
    assert "***" in text


def test_percent_formatting_is_redacted() -> None:
    assert "value=%s %r" % (Secret(VALUE), Secret(VALUE)) == "value=*** Secret('***')"  # noqa: UP031


def test_a_secret_inside_a_container_repr_is_redacted() -> None:
    @dataclass
    class Holder:
        env: dict[str, Secret]

    text = repr(Holder(env={"TOKEN": Secret(VALUE)}))

    assert VALUE not in text
    assert "TOKEN" in text


def test_a_secret_in_an_exception_message_is_redacted() -> None:
    error = ValueError(f"bad value {Secret(VALUE)}")

    assert VALUE not in str(error)


def test_secrets_with_the_same_value_are_equal_and_hash_alike() -> None:
    assert Secret(VALUE) == Secret(VALUE)
    assert hash(Secret(VALUE)) == hash(Secret(VALUE))
    assert len({Secret(VALUE), Secret(VALUE)}) == 1


def test_secrets_with_different_values_are_not_equal() -> None:
    assert Secret(VALUE) != Secret("other")


def test_a_secret_is_never_equal_to_its_plain_value() -> None:
    assert Secret(VALUE) != VALUE


def test_a_secret_cannot_be_pickled() -> None:
    with pytest.raises(TypeError, match="not picklable"):
        pickle.dumps(Secret(VALUE))
