"""A time limit for benchmark steps that drive a browser.

Playwright's ``page.evaluate`` and ``context.close`` have no timeout: a page whose main thread
never yields (a software-rendered frame of millions of triangles, a script stuck in a loop)
holds the benchmark forever. :class:`Watchdog` bounds a step from outside: past its limit it
kills this process's Chromium processes, so the blocked call fails at once, and raises
:class:`BrowserTimeoutError` naming the step; the caller records the failure and starts a new
browser (:func:`launch`).
"""

from __future__ import annotations

import sys
import threading
import time
from types import TracebackType
from typing import Any

import psutil


class BrowserTimeoutError(RuntimeError):
    """A browser step ran past its limit (the browser was killed)."""


def kill_browsers() -> int:
    """Kill every Chromium process under this process; returns how many."""
    n = 0
    for p in psutil.Process().children(recursive=True):
        try:
            if "chrom" in p.name().lower():
                p.kill()
                n += 1
        except psutil.Error:
            pass
    return n


class Watchdog:
    """``with Watchdog(300, "vrcollab view of x"):`` - the step gets 300 s."""

    def __init__(self, seconds: float, what: str) -> None:
        self.seconds = seconds
        self.what = what
        self.fired = threading.Event()
        self._timer: threading.Timer | None = None
        self._t0 = 0.0

    def _fire(self) -> None:
        self.fired.set()
        print(f"watchdog: {self.what}: no result in {self.seconds:.0f} s; killing the browser",
              file=sys.stderr, flush=True)
        kill_browsers()

    def __enter__(self) -> Watchdog:
        self._t0 = time.monotonic()
        self._timer = threading.Timer(self.seconds, self._fire)
        self._timer.daemon = True
        self._timer.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        assert self._timer is not None
        self._timer.cancel()
        if self.fired.is_set():
            raise BrowserTimeoutError(f"{self.what}: timed out after {self.seconds:.0f} s "
                                 "(browser killed)") from exc


def launch(pw: Any, executable: str, args: list[str]) -> Any:
    """A headless Chromium (a fresh one after a watchdog killed the last)."""
    return pw.chromium.launch(executable_path=executable, args=args)
