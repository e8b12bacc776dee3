"""No test here may leave an asyncio task behind: every owner cancels what it started."""

from tests.support.tasks import no_leftover_tasks

__all__ = ["no_leftover_tasks"]
