"""The kernel's two private descriptors: replies out (fd 3) and control words in (fd 4).

Replies go to their own descriptor so that a stray C-level write to fd 1 or 2 can never split a
JSON line. Several threads send (the main thread, the stream flusher), so every line is written
whole under one lock, with SIGINT held back so an interrupt cannot land in the middle of it.
"""

import _signal
import json
import math
import os
import threading


class interrupts_deferred:
    """``with interrupts_deferred():`` holds SIGINT back in the calling thread until the block ends.

    The interrupt is delivered (and KeyboardInterrupt raised) right after the block, never inside
    it; the kernel uses this where a half-done step would corrupt the protocol. A class calling
    ``_signal`` (the C side of ``signal``) rather than a contextlib generator calling ``signal``, so
    that the delayed KeyboardInterrupt surfaces in this file, whose frames tracebacks hide.
    """

    __slots__ = ('_previous_mask',)

    def __enter__(self):
        self._previous_mask = _signal.pthread_sigmask(_signal.SIG_BLOCK, (_signal.SIGINT,))

    def __exit__(self, error_type, error, traceback):
        _signal.pthread_sigmask(_signal.SIG_SETMASK, self._previous_mask)
        return False


class ReplyChannel:
    """Writes protocol messages, one JSON object per line, to the reply descriptor.

    Only the kernel process itself writes: a process forked by a cell (multiprocessing) inherits
    the descriptor, and its lines could interleave with the kernel's.
    """

    def __init__(self, descriptor):
        self._descriptor = descriptor
        self._lock = threading.Lock()
        self._process_id = os.getpid()
        os.register_at_fork(after_in_child=self._forget_lock)

    def in_kernel_process(self):
        """False in a process forked by a cell."""
        return os.getpid() == self._process_id

    def send(self, request_id, message_type, content):
        """Sends one message and returns once the whole line is written; in a forked process, nothing.

        Raises BrokenPipeError when the host has gone away; the caller decides whether that ends
        the kernel (the main loop) or is ignored (background threads).
        """
        if not self.in_kernel_process():
            return
        message = {'id': request_id, 'msg_type': message_type, 'content': content}
        line = (_to_json(message) + '\n').encode('utf-8', errors='replace')
        with interrupts_deferred(), self._lock:
            remaining = memoryview(line)
            while remaining:
                written = os.write(self._descriptor, remaining)
                remaining = remaining[written:]

    def _forget_lock(self):
        # A fork while another thread held the lock would leave it held forever in the child.
        self._lock = threading.Lock()


def _to_json(message):
    """Serializes strictly (no NaN, which JSON.parse rejects), repairing the rare content that is not."""
    try:
        return json.dumps(message, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError):
        return json.dumps(_json_repaired(message), ensure_ascii=False, allow_nan=False)


def _json_repaired(value):
    if isinstance(value, dict):
        return {str(key): _json_repaired(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_repaired(item) for item in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def start_control_reader(descriptor, on_interrupt):
    """Reads control words from ``descriptor`` on a daemon thread.

    ``interrupt`` calls ``on_interrupt(None)``, ``interrupt <request id>`` calls
    ``on_interrupt(id)``; other words are ignored so that newer hosts can send words an older
    kernel does not know. The thread ends quietly when the host closes the pipe.
    """

    def read_words():
        with os.fdopen(descriptor, 'rb', buffering=0) as control:
            for line in iter(control.readline, b''):
                words = line.decode('utf-8', errors='replace').split()
                if words and words[0] == 'interrupt' and len(words) <= 2:
                    on_interrupt(words[1] if len(words) == 2 else None)

    thread = threading.Thread(target=read_words, name='iquery-control', daemon=True)
    thread.start()
    return thread
