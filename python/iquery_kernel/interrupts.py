"""Stopping a running cell from the control thread.

Only the main thread can be interrupted in Python, and only through a signal: the control thread
sends SIGINT to the main thread, whose handler raises KeyboardInterrupt. A signal (unlike a flag
checked between bytecodes) also cuts short blocking calls such as ``time.sleep`` or a socket read.
A long C call that holds the GIL (one big numpy operation) stops as soon as it returns.

The control word may name its request (``interrupt <id>``). Without the id there is a race the
kernel cannot close: the cell ends, the host sends the next one, and the interrupt meant for the
first is read only once the second runs. With the id, an interrupt stops that request or nothing.
"""

import signal
import threading

from iquery_kernel.channel import interrupts_deferred


class CellInterrupter:
    """Turns ``interrupt`` control words into a KeyboardInterrupt inside the running request.

    Outside interruptible work, SIGINT is ignored: a late interrupt must never break the kernel's
    own loop. ``request_id`` is set by the kernel for the request it is handling.
    """

    def __init__(self):
        self._main_thread_id = threading.main_thread().ident
        self._cell_running = False
        self._target = None
        self.request_id = None

    def install(self):
        """(Re)installs the SIGINT handler; called before every cell in case user code replaced it."""
        signal.signal(signal.SIGINT, self._on_signal)

    def cell_running(self):
        """``with interrupter.cell_running():`` marks the block as interruptible user work."""
        return _CellRunning(self)

    def interrupt(self, request_id=None):
        """Called from the control thread; does nothing when no cell (or another request) is running."""
        running = self.request_id
        if not self._cell_running or (request_id is not None and request_id != str(running)):
            return
        self._target = running
        signal.pthread_kill(self._main_thread_id, signal.SIGINT)

    def _on_signal(self, signal_number, frame):
        if self._cell_running and self._target is not None and self._target == self.request_id:
            self._target = None
            raise KeyboardInterrupt


class _CellRunning:
    """The context manager of ``CellInterrupter.cell_running``: a class, not a contextlib generator,
    so that an interrupt landing on the way out is raised in a kernel frame (hidden in tracebacks)."""

    __slots__ = ('_interrupter',)

    def __init__(self, interrupter):
        self._interrupter = interrupter

    def __enter__(self):
        self._interrupter.install()
        self._interrupter._cell_running = True

    def __exit__(self, error_type, error, traceback):
        # Deferred so that a signal arriving now is handled after the flag is down, and ignored.
        with interrupts_deferred():
            self._interrupter._cell_running = False
        return False
