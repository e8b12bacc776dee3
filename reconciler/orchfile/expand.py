"""`${name}` expansion, exactly as the reference parser does it.

One pass, not recursive: a `${name}` whose name is an ARG is replaced by its value, any
other `${name}` is kept as written (built-ins such as `${ORCH_PROJECT}` are resolved later,
by the semantic layer). `$name` without braces is never expanded. Like the reference, an
unterminated `${name` runs to the end of the value and is closed when kept.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

_REFERENCE: Final = re.compile(r"\$\{([^}]*)\}?")


def expand(text: str, variables: Mapping[str, str]) -> str:
    if "${" not in text:
        return text

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        value = variables.get(name)
        return "${" + name + "}" if value is None else value

    return _REFERENCE.sub(substitute, text)
