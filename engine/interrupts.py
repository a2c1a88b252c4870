"""SIGTERM behaves like Ctrl-C, and neither tears a training step in half.

Python turns SIGINT into KeyboardInterrupt wherever the program is, and SIGTERM (schedulers,
``docker stop``, ``kill``) kills it on the spot: no final checkpoint, temp folders left behind.
:func:`install` handles both:

- ``deferred=True`` (the training loop): the signal is recorded and the loop stops at the end of
  the current step, so the checkpoint it saves is the state after a whole step, exactly what an
  uninterrupted run had there. A second signal forces the stop mid-step; that step is then not
  saved (the last good checkpoint stays).
- ``deferred=False`` (export and other commands): KeyboardInterrupt at once, so ``with`` blocks
  remove their temp folders.

While ``request.protect`` is set (the final checkpoint being written) further signals wait.
"""

from __future__ import annotations

import signal
import threading

NAMES = {signal.SIGINT: "SIGINT", signal.SIGTERM: "SIGTERM"}


class StopRequest:
    """Which signal asked to stop (None: none), and how the stop went."""

    def __init__(self, deferred: bool):
        self.deferred = deferred
        self.signum: int | None = None
        self.forced = False  # a second signal stopped it mid-step
        self.protect = False  # set while the final checkpoint is written
        self.previous: dict[int, object] = {}

    @property
    def name(self) -> str:
        return NAMES.get(self.signum, "SIGINT")

    @property
    def exit_code(self) -> int:
        """The shell's convention: 128 + the signal number (130 for Ctrl-C, 143 for SIGTERM)."""
        return 128 + (self.signum or signal.SIGINT)

    def handle(self, signum, frame) -> None:
        if self.signum is None:
            self.signum = signum
            if not self.deferred:
                raise KeyboardInterrupt
            return
        if self.protect:
            return
        self.forced = True
        raise KeyboardInterrupt


def install(*, deferred: bool) -> StopRequest:
    """Route SIGINT and SIGTERM to a new :class:`StopRequest` (a no-op outside the main thread)."""
    request = StopRequest(deferred)
    if threading.current_thread() is threading.main_thread():
        request.previous = {s: signal.signal(s, request.handle) for s in NAMES}
    return request


def uninstall(request: StopRequest) -> None:
    """Put the handlers back that were there before :func:`install`."""
    for s, old in request.previous.items():
        signal.signal(s, old)
    request.previous = {}
