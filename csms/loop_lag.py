"""Event-loop lag: how late the loop runs a timer that asked for a short sleep.

One loop serves every charger, the API and the console; anything that holds it (a slow
callback, a blocking call, a long computation, the GIL held by a thread, a garbage collection)
delays all of them.
A timer that is due every ``INTERVAL_S`` measures it from outside, whatever the cause. A late
timer is held against the server only as far as the process used the CPU meanwhile (all its
threads): a process the OS did not schedule (another program on the cores) was not held by its
own work. Over ``CSMS_LOOP_LAG_WARN_S`` is logged at WARNING, at most once a minute with a
count; the longest lag of the run, and the longest wall-clock lateness, at shutdown.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time

log = logging.getLogger(__name__)

INTERVAL_S = 0.02
REPORT_EVERY_S = 60.0


class LoopLag:
    def __init__(self, warn_s: float) -> None:
        self.warn_s = warn_s
        self.longest_s = 0.0
        self.longest_wall_s = 0.0
        self.over = 0  # lags over warn_s since the last report
        self._reported_at = float("-inf")

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                asked, cpu_s = loop.time(), time.process_time()
                await asyncio.sleep(INTERVAL_S)
                late_s = loop.time() - asked - INTERVAL_S
                self.longest_wall_s = max(self.longest_wall_s, late_s)
                self.note(min(late_s, time.process_time() - cpu_s), loop.time())
        finally:
            log.info("event loop: longest lag %.1f ms (longest wall-clock lateness %.1f ms)",
                     self.longest_s * 1000, self.longest_wall_s * 1000)

    def steady(self) -> None:
        """Start-up (imports, the planner's warm-up) is over: what was held until now is logged
        as start-up, and the run's figures count from here."""
        log.info("event loop: longest lag during start-up %.1f ms", self.longest_s * 1000)
        self.longest_s = self.longest_wall_s = 0.0
        self.over, self._reported_at = 0, float("-inf")

    def note(self, lag_s: float, now_s: float) -> None:
        self.longest_s = max(self.longest_s, lag_s)
        if lag_s <= self.warn_s:
            return
        self.over += 1
        if now_s - self._reported_at >= REPORT_EVERY_S:
            log.warning("event loop held for %.0f ms (%d lags over %.0f ms since the last "
                        "report; every charger, the API and the console waited)",
                        lag_s * 1000, self.over, self.warn_s * 1000)
            self.over, self._reported_at = 0, now_s


async def freeze_after_start(*startup: asyncio.Future, lag: LoopLag | None = None) -> None:
    """``gc.freeze()`` once the start-up work is done (imports, the planner's warm-up).

    A full garbage collection scans every tracked object, and the libraries the server imports
    (SQLAlchemy, pandas, pvlib, SciPy) make hundreds of thousands of them that live as long as
    the process. Each full collection then held every thread for 120-270 ms (measured under
    the fuzz test of tests/ocpp/test_fuzz_process.py, 2 cores). Frozen, they are never scanned
    again; what the server makes afterwards is collected as before."""
    await asyncio.gather(*startup, return_exceptions=True)
    freeze()
    if lag is not None:
        lag.steady()


def freeze() -> None:
    gc.freeze()
    log.info("garbage collector: %d start-up objects frozen", gc.get_freeze_count())
