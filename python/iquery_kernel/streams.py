"""``sys.stdout`` and ``sys.stderr`` for cells: text becomes ``stream`` messages of the running request.

Output must reach the host while a long cell is still running, yet a loop printing a million lines
must not become a million messages. So a line is sent at once when nothing was sent in the last
``flush_interval`` seconds, otherwise it waits (at most that long) for a background flush that
sends everything pending as one message. ``flush()`` (``print(..., flush=True)``) always sends now.

The writers stay installed for the kernel's whole life, following the request being handled:
objects that captured ``sys.stderr`` in an earlier cell (a logging handler) keep working.
"""

import collections
import io
import os
import sys
import threading
import time

from iquery_kernel.channel import interrupts_deferred

flush_interval = 0.05
"""Seconds a written line may wait to be merged with the next ones."""

large_pending_size = 64 * 1024
"""Characters after which pending text is sent without waiting."""


class StreamWriter(io.TextIOBase):
    """A text stream whose writes become ``stream`` messages named ``stdout`` or ``stderr``."""

    encoding = 'utf-8'
    errors = 'strict'

    def __init__(self, name, channel, fallback_descriptor, wake_flusher):
        super().__init__()
        self._name = name
        self._channel = channel
        self._fallback_descriptor = fallback_descriptor
        self._wake_flusher = wake_flusher
        self._lock = threading.Lock()
        self._pending = collections.deque()
        self._pending_size = 0
        self._last_sent = 0.0
        self.request_id = None
        os.register_at_fork(after_in_child=self._forget_lock)

    @property
    def name(self):
        return f'<{self._name}>'

    def writable(self):
        return True

    def isatty(self):
        return False

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError(f'write() argument must be str, not {type(text).__name__}')
        if not text:
            return 0
        # No lock here: deque.append is atomic, and a lock taken on this hot path would need
        # SIGINT deferred around it (two system calls per write, a sixfold slowdown of print loops).
        self._pending.append(text)
        self._pending_size += len(text)  # approximate under threads; only decides when to send
        if self._pending_size >= large_pending_size or (
            '\n' in text and time.monotonic() - self._last_sent >= flush_interval
        ):
            self.flush()
        else:
            self._wake_flusher()
        return len(text)

    def flush(self):
        """Sends pending text now; a no-op when there is none."""
        if not self._pending:
            return
        # Taking and sending under one lock keeps the order when two threads flush at once.
        with interrupts_deferred(), self._lock:
            parts = []
            while self._pending:
                parts.append(self._pending.popleft())
            self._pending_size = 0
            if not parts:
                return
            text = ''.join(parts)
            self._last_sent = time.monotonic()
            if self.request_id is None or not self._channel.in_kernel_process():
                # Between requests (a thread still printing) or in a process forked by a cell:
                # the host reads fds 1 and 2 as well.
                os.write(self._fallback_descriptor, text.encode('utf-8', errors='replace'))
            else:
                self._channel.send(self.request_id, 'stream', {'name': self._name, 'text': text})

    def _forget_lock(self):
        # A fork while the flusher thread held the lock would leave it held forever in the child.
        self._lock = threading.Lock()


class CellStreams:
    """The stdout and stderr writers plus the thread that sends what they hold back."""

    def __init__(self, channel):
        self._wake = threading.Event()
        self.stdout = StreamWriter('stdout', channel, 1, self._wake_flusher)
        self.stderr = StreamWriter('stderr', channel, 2, self._wake_flusher)
        threading.Thread(target=self._flush_periodically, name='iquery-streams', daemon=True).start()

    def install(self):
        sys.stdout = self.stdout
        sys.stderr = self.stderr

    def attach(self, request_id):
        """Output from now on belongs to ``request_id`` (None: no request)."""
        self.flush()
        self.stdout.request_id = request_id
        self.stderr.request_id = request_id

    def flush(self):
        """Sends everything pending; called before any other message so that order is kept."""
        self.stdout.flush()
        self.stderr.flush()

    def _wake_flusher(self):
        if not self._wake.is_set():
            self._wake.set()

    def _flush_periodically(self):
        while True:
            self._wake.wait()
            self._wake.clear()
            time.sleep(flush_interval)
            try:
                self.flush()
            except OSError:
                return  # the host has gone; the main loop notices and exits
            except Exception:
                continue  # the text is lost, but later output must still flow
