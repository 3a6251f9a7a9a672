"""Sleep until a ``perf_counter_ns`` time with microsecond precision, without spinning.

The event loop's own timers wake up to a millisecond late (``epoll_wait`` takes whole milliseconds
and CPython rounds up), which would add 0-1 ms of client lag to every open-loop send. Spinning on
``sleep(0)`` for the last millisecond fixes the lag but burns the CPU the client is supposed to
save. On Linux a ``timerfd`` (armed with an absolute CLOCK_MONOTONIC time, the clock behind
``perf_counter_ns``) registered with the loop wakes it at the right microsecond at no cost; where
that is not available the last ``SPIN_S`` are spent yielding instead.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import sys
import time

now_ns = time.perf_counter_ns
SPIN_S = 0.0012  # fallback: the loop's timer may be this late (1 ms rounding plus wake-up)


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


class _Itimerspec(ctypes.Structure):
    _fields_ = [("it_interval", _Timespec), ("it_value", _Timespec)]


_CLOCK_MONOTONIC, _TFD_NONBLOCK, _TFD_CLOEXEC, _TFD_TIMER_ABSTIME = 1, 0o4000, 0o2000000, 1


class _TimerFd:
    """One timerfd watched by one loop; one sleeper at a time (the open-loop scheduler)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._libc = ctypes.CDLL(None, use_errno=True)
        fd = self._libc.timerfd_create(_CLOCK_MONOTONIC, _TFD_NONBLOCK | _TFD_CLOEXEC)
        if fd < 0:
            raise OSError(ctypes.get_errno(), "timerfd_create failed")
        self.fd, self.loop = fd, loop
        self._waiter: asyncio.Future[None] | None = None
        self._spec = _Itimerspec()
        loop.add_reader(fd, self._fired)

    def _fired(self) -> None:
        try:
            os.read(self.fd, 8)
        except BlockingIOError:
            return
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def until(self, target_ns: int) -> None:
        target_ns = max(1, target_ns)
        self._spec.it_value.tv_sec, self._spec.it_value.tv_nsec = divmod(target_ns, 1_000_000_000)
        if self._libc.timerfd_settime(self.fd, _TFD_TIMER_ABSTIME, ctypes.byref(self._spec), None) != 0:
            raise OSError(ctypes.get_errno(), "timerfd_settime failed")
        waiter = self._waiter = self.loop.create_future()
        try:
            await waiter
        finally:
            if self._waiter is waiter:  # a cancelled sleeper may finish after the next one started
                self._waiter = None

    def close(self) -> None:
        self.loop.remove_reader(self.fd)
        os.close(self.fd)


_timers: dict[asyncio.AbstractEventLoop, _TimerFd | None] = {}


def _timer_for(loop: asyncio.AbstractEventLoop) -> _TimerFd | None:
    if loop not in _timers:
        timer = None
        if sys.platform == "linux" and time.get_clock_info("perf_counter").implementation.endswith("(CLOCK_MONOTONIC)"):
            try:
                timer = _TimerFd(loop)
            except (OSError, AttributeError, NotImplementedError):
                timer = None
        for old in [lp for lp in _timers if lp.is_closed()]:  # forget loops that are gone
            t = _timers.pop(old)
            if t is not None:
                os.close(t.fd)
        _timers[loop] = timer
    return _timers[loop]


async def sleep_until(target_ns: int) -> None:
    """Return at ``target_ns`` (``perf_counter_ns`` clock), a few microseconds late at most when
    the loop is not busy. Not for concurrent use from several tasks of one loop."""
    if target_ns - now_ns() <= 0:
        return
    timer = _timer_for(asyncio.get_running_loop())
    if timer is not None:
        await timer.until(target_ns)
        return
    while (left := (target_ns - now_ns()) / 1e9) > 0:
        await asyncio.sleep(left - SPIN_S if left > SPIN_S else 0)
