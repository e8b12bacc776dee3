"""Names Kubernetes accepts, made from names it may refuse.

A service's name already is one: the Orch spec allows lowercase letters, digits and `-`,
starting with a letter, at most 63 characters (and `validate` refuses `--` and a
trailing `-`), which is a DNS-1035 label. So the Service, the Deployment or Job and the
container of a service carry its name unchanged, and `web` stays `web` in cluster DNS,
as in our bridge network.

Everything else that becomes a name or a label value goes through `dns_label`: a named
volume (the Orch spec also allows capitals, `_` and `.`), the project (no length limit
of its own), and names built from a service's name and a suffix that may pass 63
characters. A valid label is kept as it is; any other text is lowercased, each other
character turned into `-`, shortened, and given the first 8 hex digits of its SHA-256,
so that two names that differ only in what was replaced never collide, and the same
input always gives the same name.
"""

from __future__ import annotations

import hashlib
import re
from typing import Final

MAX_LABEL: Final = 63
_DNS_LABEL: Final = re.compile(r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?")
_DIGEST: Final = 8


def is_dns_label(text: str) -> bool:
    return len(text) <= MAX_LABEL and _DNS_LABEL.fullmatch(text) is not None


def dns_label(text: str) -> str:
    """`text` when it is a DNS-1123 label, else a valid label made from it."""
    if is_dns_label(text):
        return text
    cleaned = re.sub(r"-+", "-", re.sub(r"[^a-z0-9-]", "-", text.lower())).strip("-")
    digest = hashlib.sha256(text.encode()).hexdigest()[:_DIGEST]
    stem = cleaned[: MAX_LABEL - _DIGEST - 1].rstrip("-")
    return f"{stem}-{digest}" if stem else digest


def joined(*parts: str) -> str:
    """Parts joined by `-`, as one DNS-1123 label (shortened with a digest if too long)."""
    return dns_label("-".join(parts))
