"""Exceptions as the protocol's error content ``{ename, evalue, traceback}``.

The model reads these tracebacks to fix its code, so the kernel's own frames (the ``exec`` call,
the display machinery) are removed: what remains starts at ``<cell N>``.
"""

import os
import traceback

_kernel_directory = os.path.dirname(os.path.abspath(__file__)) + os.sep


def error_content(error):
    """``{ename, evalue, traceback}`` for ``error``; ``traceback`` is a list of lines without newlines.

    Kernel frames are dropped unless nothing else is left (a failure inside the kernel itself,
    where they are the useful part; but not for an interrupt that landed in the kernel's output
    code, where they are noise). Chained exceptions (``raise ... from ...``) are kept.
    """
    report = traceback.TracebackException.from_exception(error)
    _drop_kernel_frames(report, seen=set(), keep_if_only=not isinstance(error, KeyboardInterrupt))
    lines = []
    for chunk in report.format():
        lines.extend(chunk.rstrip('\n').split('\n'))
    return {'ename': type(error).__name__, 'evalue': _message(error), 'traceback': lines}


def _message(error):
    try:
        return str(error)
    except Exception:  # an exception class of the user's with a broken __str__
        return f'<unprintable {type(error).__name__} object>'


def _drop_kernel_frames(report, seen, keep_if_only):
    if report is None or id(report) in seen:
        return
    seen.add(id(report))
    outside_kernel = [frame for frame in report.stack if not frame.filename.startswith(_kernel_directory)]
    if outside_kernel or not keep_if_only:
        report.stack[:] = outside_kernel
    _drop_kernel_frames(report.__cause__, seen, keep_if_only)
    _drop_kernel_frames(report.__context__, seen, keep_if_only)
