"""How a pull treats registries: which hosts are plain HTTP, how hard to retry.

Why this exists apart from the registry client: the image settings and the ingest code
need these, and loading them must not load the HTTP client, which only a pull uses.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from reconciler.errors import RegistryUnavailable


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """How hard to try a registry before it is ``RegistryUnavailable``."""

    attempts: int = 5
    first_wait: float = 0.1
    max_wait: float = 5.0

    def retrying(self) -> AsyncRetrying:
        return AsyncRetrying(
            retry=retry_if_exception_type((OSError, RegistryUnavailable)),
            wait=wait_random_exponential(multiplier=self.first_wait, max=self.max_wait),
            stop=stop_after_attempt(self.attempts),
            reraise=True,
        )


@dataclass(frozen=True, kw_only=True)
class RegistryOptions:
    """Pull settings: hosts reached over plain HTTP besides loopback, retries."""

    insecure_hosts: frozenset[str] = frozenset()
    retry: RetryPolicy = field(default_factory=RetryPolicy)
