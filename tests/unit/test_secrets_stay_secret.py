"""Secrets are never recoverable from what the reconciler writes or says: configuration
digests are keyed, errors from elsewhere are redacted, parse errors do not echo values."""

from __future__ import annotations

import hashlib
import json
import stat
from pathlib import Path

import pytest

from reconciler.app.fingerprint_key import KEY_BYTES, fingerprint_key
from reconciler.controllers.fingerprint import fingerprint
from reconciler.errors import InvalidOrchfile, UnsafePath
from reconciler.model.secret import Secret, redact
from reconciler.orchfile.loader import SourceFile, load_sources
from tests.support.desired import service


def test_a_short_values_digest_depends_on_the_key_and_is_no_plain_hash() -> None:
    pin = service("web", env={"PIN": "123456"})
    one = fingerprint(pin, image_digest=None, env_files=(), key=b"k1" * 16)
    two = fingerprint(pin, image_digest=None, env_files=(), key=b"k2" * 16)
    plain = hashlib.sha256(json.dumps("123456").encode()).hexdigest()

    assert one.parts["env.PIN"] != two.parts["env.PIN"]
    assert one.config_hash != two.config_hash
    assert one.parts["env.PIN"] != plain[: len(one.parts["env.PIN"])]
    assert one == fingerprint(pin, image_digest=None, env_files=(), key=b"k1" * 16)


def test_the_key_is_made_once_private_and_read_after(tmp_path: Path) -> None:
    key = fingerprint_key(tmp_path / "state")
    path = tmp_path / "state" / "fingerprint.key"

    assert len(key) == KEY_BYTES
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert fingerprint_key(tmp_path / "state") == key
    assert [p.name for p in path.parent.iterdir()] == ["fingerprint.key"]


def test_a_key_file_that_is_a_link_is_refused_not_read(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    elsewhere = tmp_path / "known.key"
    elsewhere.write_bytes(b"k" * KEY_BYTES)
    (state / "fingerprint.key").symlink_to(elsewhere)

    with pytest.raises(UnsafePath, match=r"fingerprint.key is a symbolic link"):
        fingerprint_key(state)


def test_redaction_hides_values_and_their_pieces_between_nul_bytes() -> None:
    secrets = [Secret("CANARY\x00SECRETVALUE"), Secret("hunter2"), Secret("on")]
    text = 'runc: value can\'t contain null: "X=CANARY\x00SECRETVALUE"; hunter2; turn it on'

    redacted = redact(text, secrets)

    assert "CANARY" not in redacted
    assert "SECRETVALUE" not in redacted
    assert "hunter2" not in redacted
    assert redacted.endswith("turn it on")  # too short to search for


def test_a_malformed_env_line_is_named_by_its_first_word_only() -> None:
    text = "SERVICE web\n  FROM img\n  ENV PASSWORD hunter2\n"
    with pytest.raises(InvalidOrchfile) as raised:
        load_sources([SourceFile(name="Orchfile", text=text)], {}, {})
    message = str(raised.value.diagnostics[0])
    assert message == "Orchfile:3: invalid ENV format 'PASSWORD ...', expected KEY=value"
