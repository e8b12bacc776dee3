"""Read desired-state files and turn them into one resolved `Document`.

Each file is read as UTF-8 and parsed as Orch text or, when it looks like the YAML form
(or is named `.yaml`/`.yml`), as YAML. Syntax errors of every file are reported
together; only when all files parse are they merged (left to right) and resolved.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from reconciler.errors import Diagnostic, InvalidOrchfile, Location
from reconciler.orchfile.document import Document
from reconciler.orchfile.merge import merge_files
from reconciler.orchfile.parser import parse_text
from reconciler.orchfile.raw import RawFile
from reconciler.orchfile.resolve import resolve
from reconciler.orchfile.yaml_form import looks_like_yaml, parse_yaml

YAML_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True, kw_only=True)
class SourceFile:
    """A desired-state file as read: its name as the user gave it, and its text."""

    name: str
    text: str

    @property
    def is_yaml(self) -> bool:
        return self.name.endswith(YAML_SUFFIXES) or looks_like_yaml(self.text)


def read_sources(paths: Sequence[str]) -> list[SourceFile]:
    sources, errors = [], []
    for name in paths:
        at = Location(file=name)
        try:
            text = Path(name).read_bytes().decode("utf-8")
        except FileNotFoundError:
            errors.append(Diagnostic(location=at, message="no such file"))
        except IsADirectoryError:
            errors.append(Diagnostic(location=at, message="is a directory, not an Orchfile"))
        except UnicodeDecodeError as error:
            message = f"not UTF-8 text (byte {error.start})"
            errors.append(Diagnostic(location=at, message=message))
        except OSError as error:
            errors.append(Diagnostic(location=at, message=f"cannot read: {error.strerror}"))
        else:
            sources.append(SourceFile(name=name, text=text))
    if errors:
        raise InvalidOrchfile(errors)
    return sources


def parse_source(source: SourceFile) -> RawFile:
    if source.is_yaml:
        return parse_yaml(source.text, source.name)
    return parse_text(source.text, source.name)


def load_sources(
    sources: Sequence[SourceFile], cli_args: Mapping[str, str], environ: Mapping[str, str]
) -> Document:
    raws: list[RawFile] = []
    errors: list[Diagnostic] = []
    for source in sources:
        try:
            raws.append(parse_source(source))
        except InvalidOrchfile as invalid:
            errors.extend(invalid.diagnostics)
    if errors:
        raise InvalidOrchfile(errors)
    return resolve(merge_files(raws), cli_args, environ)


def load(paths: Sequence[str], cli_args: Mapping[str, str], environ: Mapping[str, str]) -> Document:
    return load_sources(read_sources(paths), cli_args, environ)
