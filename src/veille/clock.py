"""The time veille lives by, in one place: times stored (naive, UTC), the main job's
pauses between polls, when alerts are due. A test replays a day by replacing `now` and
`pause` here instead of waiting for it.
"""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime

# A stop request is noticed within this many seconds of a pause.
STEP = 0.2


def now() -> datetime:
    """Now, naive in UTC, as the store keeps times."""
    return datetime.now(UTC).replace(tzinfo=None)


async def pause(seconds: float, stop: threading.Event) -> None:
    """Wait `seconds`, or less when `stop` is set meanwhile."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not stop.is_set() and loop.time() < deadline:
        await asyncio.sleep(min(STEP, max(0.0, deadline - loop.time())))
