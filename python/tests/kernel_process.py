"""A real kernel in a child process, driven over its real descriptors, for the tests.

Not a test module itself (no ``test_`` prefix): the test modules import it. The child gets the
reply pipe as fd 3 and the control pipe as fd 4, exactly as the host arranges them.
"""

import fcntl
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid

python_directory = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if python_directory not in sys.path:
    sys.path.insert(0, python_directory)  # the unit tests import iquery_kernel from any working directory

_font_cache = None


def prebuilt_font_cache():
    """Builds matplotlib's font list once per test run, as the host's set-up does.

    The folder is removed when the test process exits (TemporaryDirectory's finalizer).
    """
    global _font_cache
    if _font_cache is None:
        directory = tempfile.TemporaryDirectory(prefix='iquery-font-cache-')
        subprocess.run(
            [sys.executable, '-m', 'iquery_kernel.build_font_cache', directory.name],
            env=_child_environment({}),
            check=True,
            capture_output=True,
        )
        _font_cache = directory
    return _font_cache.name


def _child_environment(extra):
    environment = dict(os.environ)
    environment['PYTHONPATH'] = python_directory
    environment.pop('MPLBACKEND', None)
    environment.update(extra)
    return environment


def _descriptor_mapper(reply_write, control_read):
    """In the child: puts the pipe ends at fds 3 and 4 (moving them out of the way first)."""

    def map_descriptors():
        high_reply = fcntl.fcntl(reply_write, fcntl.F_DUPFD_CLOEXEC, 10)
        high_control = fcntl.fcntl(control_read, fcntl.F_DUPFD_CLOEXEC, 10)
        os.dup2(high_reply, 3)
        os.dup2(high_control, 4)

    return map_descriptors


class KernelProcess:
    """Starts ``python -m iquery_kernel`` and collects its messages with arrival times."""

    def __init__(self, preview_rows=None, environment=None):
        self.workspace = tempfile.mkdtemp(prefix='iquery-workspace-')
        self.config_directory = tempfile.mkdtemp(prefix='iquery-mplconfig-')
        reply_read, reply_write = os.pipe()
        control_read, control_write = os.pipe()
        arguments = ['--reply-fd', '3', '--control-fd', '4', '--workspace', self.workspace]
        if preview_rows is not None:
            arguments += ['--preview-rows', str(preview_rows)]
        extra = {'MPLCONFIGDIR': self.config_directory, 'IQUERY_MPL_CACHE': prebuilt_font_cache()}
        extra.update(environment or {})
        self.started_at = time.monotonic()
        self.process = subprocess.Popen(
            [sys.executable, '-m', 'iquery_kernel', *arguments],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            close_fds=False,  # our pipe ends are non-inheritable; fds 3 and 4 are made by dup2
            preexec_fn=_descriptor_mapper(reply_write, control_read),
            env=_child_environment(extra),
        )
        os.close(reply_write)
        os.close(control_read)
        self._control = os.fdopen(control_write, 'wb', buffering=0)
        self.messages = queue.Queue()
        self.raw_output = {'stdout': bytearray(), 'stderr': bytearray()}
        threading.Thread(target=self._read_replies, args=(reply_read,), daemon=True).start()
        for name in ('stdout', 'stderr'):
            threading.Thread(target=self._drain, args=(name,), daemon=True).start()
        self.ready = self.next_message(timeout=60)
        self.ready_after = self.ready['received_at'] - self.started_at

    def _read_replies(self, descriptor):
        with os.fdopen(descriptor, 'rb') as replies:
            for line in replies:
                try:
                    message = json.loads(line)
                except ValueError:
                    message = {'id': None, 'msg_type': 'corrupt-line', 'content': {'line': line.decode('utf-8', 'replace')}}
                message['received_at'] = time.monotonic()
                self.messages.put(message)
        self.messages.put(None)

    def _drain(self, name):
        stream = getattr(self.process, name)
        for chunk in iter(lambda: stream.read1(65536), b''):
            self.raw_output[name].extend(chunk)

    def next_message(self, timeout=30):
        message = self.messages.get(timeout=timeout)
        if message is None:
            raise AssertionError(f'the kernel closed its reply pipe; stderr: {self.raw_output["stderr"].decode()}')
        return message

    def send_line(self, line):
        self.process.stdin.write(line if isinstance(line, bytes) else line.encode('utf-8'))
        self.process.stdin.flush()

    def send(self, request_type, **fields):
        request_id = fields.pop('id', None) or uuid.uuid4().hex[:8]
        self.send_line(json.dumps({'id': request_id, 'type': request_type, **fields}) + '\n')
        return request_id

    def request(self, request_type, timeout=30, **fields):
        """Sends a request and returns all its messages, the ``reply`` last."""
        request_id = self.send(request_type, **fields)
        return self.collect(request_id, timeout)

    def collect(self, request_id, timeout=30):
        deadline = time.monotonic() + timeout
        collected = []
        while True:
            message = self.next_message(timeout=max(0.01, deadline - time.monotonic()))
            if message['id'] != request_id:
                raise AssertionError(f'message of another request: {message}')
            collected.append(message)
            if message['msg_type'] == 'reply':
                return collected

    def execute(self, code, timeout=30, **fields):
        return self.request('execute', timeout=timeout, code=code, **fields)

    def interrupt(self, request_id=None):
        """Sends ``interrupt`` (``interrupt <id>`` when a request is named)."""
        self._control.write(b'interrupt\n' if request_id is None else f'interrupt {request_id}\n'.encode())

    def close(self):
        if self.process.poll() is None:
            try:
                self.request('shutdown', timeout=10)
            except (AssertionError, queue.Empty, BrokenPipeError):
                pass
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr, self._control):
            try:
                stream.close()
            except OSError:
                pass
        shutil.rmtree(self.workspace, ignore_errors=True)
        shutil.rmtree(self.config_directory, ignore_errors=True)


def of_type(messages, message_type):
    return [message for message in messages if message['msg_type'] == message_type]


def stream_text(messages, name='stdout'):
    return ''.join(message['content']['text'] for message in of_type(messages, 'stream') if message['content']['name'] == name)


def reply_of(messages):
    return messages[-1]['content']


class KernelTestCase(unittest.TestCase):
    """A test class that shares one real kernel between its tests (started once, closed at the end)."""

    @classmethod
    def setUpClass(cls):
        cls.kernel = KernelProcess()

    @classmethod
    def tearDownClass(cls):
        cls.kernel.close()
