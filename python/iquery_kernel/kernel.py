"""The request loop: one JSON request per line on stdin, each answered by outputs and one ``reply``.

A bad request (malformed JSON, unknown type, missing field) is answered with an ``error`` and a
``reply`` of status 'error', and the loop goes on: nothing a request contains may end the kernel,
except ``shutdown`` and the host closing stdin.
"""

import importlib
import json
import keyword
import resource

import pandas

from iquery_kernel import review
from iquery_kernel.display import OutputPublisher
from iquery_kernel.execution import CellRunner
from iquery_kernel.tracebacks import error_content


class ProtocolError(Exception):
    """The request itself is wrong (not JSON, unknown type, missing field)."""


class FramesUnavailable(RuntimeError):
    """``iquery_kernel/frames.py`` (the data hand-off) is not installed in this kernel."""


class Kernel:
    """Dispatches requests to their handlers; each handler returns the ``reply`` content."""

    def __init__(self, channel, streams, interrupter, namespace, workspace, preview_rows):
        self._channel = channel
        self._streams = streams
        self._interrupter = interrupter
        self._namespace = namespace
        self._workspace = workspace
        self.publisher = OutputPublisher(channel, streams, preview_rows)
        self._runner = CellRunner(namespace, interrupter)
        self._execution_count = 0
        self._stopping = False
        self._handlers = {
            'execute': self._execute,
            'load_frame': self._load_frame,
            'save_frame': self._save_frame,
            'review': self._review,
            'memory': self._memory,
            'shutdown': self._shutdown,
        }

    def serve(self, requests):
        """Handles requests from the binary stream ``requests`` until shutdown or end of input."""
        for line in iter(requests.readline, b''):
            if line.strip():
                self.handle(line)
            if self._stopping:
                return

    def handle(self, line):
        """Handles one request line; always ends with a ``reply`` (with a null id if it has none)."""
        request_id = None
        try:
            request = _parse_request(line)
            request_id = request.get('id')
            handler = self._handlers.get(request.get('type'))
            if handler is None:
                known = ', '.join(self._handlers)
                raise ProtocolError(f'unknown request type {request.get("type")!r}; known types: {known}')
            self._streams.attach(request_id)
            self._interrupter.request_id = request_id
            self.publisher.begin(request_id, svg=request.get('svg') is True)
            content = handler(request)
        except BrokenPipeError:
            raise
        except KeyboardInterrupt as error:  # an interrupt of load_frame/save_frame
            content = self._failed(request_id, error, 'aborted')
        except Exception as error:
            content = self._failed(request_id, error, 'error')
        finally:
            self._streams.attach(None)
            self._interrupter.request_id = None
            self.publisher.begin(None, svg=False)
        self._channel.send(request_id, 'reply', content)

    def _failed(self, request_id, error, status):
        self._streams.flush()
        details = error_content(error)
        if isinstance(error, ProtocolError):
            details['traceback'] = []  # the kernel's frames say nothing about a malformed request
        self._channel.send(request_id, 'error', details)
        return {'status': status}

    def _execute(self, request):
        code = _required_field(request, 'code', str)
        self._streams.install()  # a previous cell may have replaced sys.stdout and not put it back
        self._execution_count += 1
        status = self._runner.run(code, self._execution_count, self.publisher)
        return {'status': status, 'execution_count': self._execution_count}

    def _load_frame(self, request):
        name = _variable_name(request)
        manifest = _required_field(request, 'manifest', str)
        frames = _frames_module()
        with self._interrupter.cell_running():
            frame = frames.read_frame(manifest)
        self._namespace[name] = frame
        return {'status': 'ok', 'rows': len(frame)}

    def _save_frame(self, request):
        name = _variable_name(request)
        directory = _required_field(request, 'directory', str)
        if name not in self._namespace:
            raise NameError(f'name {name!r} is not defined')
        frame = self._namespace[name]
        if not isinstance(frame, pandas.DataFrame):
            raise TypeError(f'{name!r} is a {type(frame).__name__}, not a DataFrame')
        frames = _frames_module()
        with self._interrupter.cell_running():
            manifest = frames.write_frame(frame, directory)
        return {'status': 'ok', 'manifest': str(manifest), 'rows': len(frame)}

    def _review(self, request):
        code = _required_field(request, 'code', str)
        findings = review.review_code(code, allowed_roots=(self._workspace, '/tmp'))
        return {'status': 'ok', 'findings': findings}

    def _memory(self, request):
        return {'status': 'ok', 'rss_bytes': resident_set_bytes()}

    def _shutdown(self, request):
        self._stopping = True
        return {'status': 'ok'}


def resident_set_bytes():
    """The current resident set size (VmRSS); the peak (ru_maxrss) where /proc is not mounted."""
    try:
        with open('/proc/self/status', encoding='ascii', errors='replace') as status:
            for line in status:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _parse_request(line):
    try:
        request = json.loads(line)
    except ValueError as error:
        raise ProtocolError(f'a request must be one JSON object per line: {error}') from None
    if not isinstance(request, dict):
        raise ProtocolError('a request must be a JSON object')
    return request


def _required_field(request, name, kind):
    value = request.get(name)
    if not isinstance(value, kind):
        raise ProtocolError(f'request {request.get("type")!r} needs {name!r} ({kind.__name__})')
    return value


def _variable_name(request):
    name = _required_field(request, 'name', str)
    if not name.isidentifier() or keyword.iskeyword(name):
        raise ProtocolError(f'{name!r} is not a valid Python variable name')
    return name


def _frames_module():
    try:
        return importlib.import_module('iquery_kernel.frames')
    except ModuleNotFoundError as error:
        if error.name != 'iquery_kernel.frames':
            raise
        raise FramesUnavailable(
            'iquery_kernel/frames.py (the data hand-off) is not installed in this kernel; '
            'frames cannot be loaded or saved'
        ) from None
