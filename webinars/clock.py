"""The one source of "now", and of waiting, so tests can move time without sleeping."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

_source: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731
_sleep: Callable[[float], object] = time.sleep


def now() -> datetime:
    return _source()


def set_clock(source: Callable[[], datetime] | None) -> None:
    """Replace the clock (tests); None restores the real one."""
    global _source
    _source = source or (lambda: datetime.now(UTC))


def sleep(seconds: float) -> None:
    """Wait ``seconds``; a test that froze the clock moves it forward instead (``set_sleep``)."""
    _sleep(seconds)


def set_sleep(sleeper: Callable[[float], object] | None) -> None:
    """Replace the way of waiting (tests); None restores time.sleep."""
    global _sleep
    _sleep = sleeper or time.sleep
