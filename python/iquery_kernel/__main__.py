"""Start-up: ``python -m iquery_kernel --reply-fd 3 --control-fd 4 --workspace DIR [--preview-rows N]``.

In order: take the protocol descriptors away from what user code can reach by accident, import
numpy, pandas and matplotlib (so the first cell is fast), start the helper threads, apply the
sandbox's confinement (after the imports, so limits do not slow them; after the threads, so a
process limit cannot stop them), then announce ``ready`` and serve requests.

Environment read: ``MPLCONFIGDIR`` (default ``<tmp>/matplotlib``, created), ``IQUERY_MPL_CACHE`` (a
folder with a prebuilt ``fontlist-*.json``, see ``build_font_cache``), and through ``confine.py`` the
``IQUERY_LIMIT_*`` limits. ``MPLBACKEND`` is always set to Agg. Cells start in ``--workspace``, which
is also first on ``sys.path``; ``pd``, ``np``, ``plt`` and ``display`` are bound before the first cell.
"""

import argparse
import faulthandler
import importlib
import io
import os
import platform
import sys
import types

from iquery_kernel import figures, protocol_version


class _NoInput(io.TextIOBase):
    """``sys.stdin`` for cells: the real stdin carries the protocol, so ``input()`` fails clearly."""

    def readable(self):
        return True

    def read(self, size=-1):
        raise EOFError('input() is not available: cells run without a terminal')

    readline = read


def parse_arguments(arguments):
    parser = argparse.ArgumentParser(prog='python -m iquery_kernel', description='The iquery Python kernel.')
    parser.add_argument('--reply-fd', type=int, required=True, help='descriptor for replies (JSON lines)')
    parser.add_argument('--control-fd', type=int, required=True, help='descriptor for control words (interrupt)')
    parser.add_argument('--workspace', required=True, help='working directory of the cells')
    parser.add_argument('--preview-rows', type=int, default=50, help='rows in a table preview (default 50)')
    options = parser.parse_args(arguments)
    if options.preview_rows < 0:
        parser.error('--preview-rows must be 0 or more')
    return options


def take_request_stream(reply_descriptor, control_descriptor):
    """Moves the requests off fd 0 and hides the protocol descriptors from child processes.

    fd 0 becomes /dev/null, so neither ``input()`` nor a subprocess can swallow a request.
    """
    for descriptor in (reply_descriptor, control_descriptor):
        os.set_inheritable(descriptor, False)
    request_descriptor = os.dup(0)  # not inheritable
    try:
        null = os.open(os.devnull, os.O_RDONLY)
    except OSError:
        pass  # no /dev/null in this sandbox: stdin stays shared, which only matters for odd cells
    else:
        os.dup2(null, 0)
        os.close(null)
    return os.fdopen(request_descriptor, 'rb')


def apply_confinement():
    """Calls the sandbox engineer's ``confine.apply_from_environment()`` when it is installed."""
    try:
        confine = importlib.import_module('iquery_kernel.confine')
    except ModuleNotFoundError as error:
        if error.name != 'iquery_kernel.confine':
            raise
        return []
    return list(confine.apply_from_environment())


def create_user_namespace():
    """A fresh ``__main__`` module whose dict is the cells' namespace.

    Registered as ``sys.modules['__main__']`` so that pickling a class or function defined in a
    cell (joblib, multiprocessing) finds it, as in Jupyter.
    """
    module = types.ModuleType('__main__', 'The namespace of the cells.')
    sys.modules['__main__'] = module
    return module.__dict__


def main(arguments):
    options = parse_arguments(arguments)
    requests = take_request_stream(options.reply_fd, options.control_fd)
    faulthandler.enable(file=sys.__stderr__)  # a crash in C code leaves a Python stack on fd 2
    os.chdir(options.workspace)
    sys.path.insert(0, os.getcwd())  # modules written into the workspace are importable, as in Jupyter

    figures.prepare_matplotlib_environment()
    import numpy
    import pandas

    from iquery_kernel.channel import ReplyChannel, start_control_reader
    from iquery_kernel.interrupts import CellInterrupter
    from iquery_kernel.kernel import Kernel
    from iquery_kernel.streams import CellStreams

    pandas.set_option('display.width', 200)
    pandas.set_option('display.max_columns', 50)

    channel = ReplyChannel(options.reply_fd)
    streams = CellStreams(channel)
    interrupter = CellInterrupter()
    namespace = create_user_namespace()
    kernel = Kernel(channel, streams, interrupter, namespace, options.workspace, options.preview_rows)
    figures.configure_matplotlib(show=kernel.publisher.show_open_figures)
    from matplotlib import pyplot

    namespace.update(display=kernel.publisher.display, np=numpy, pd=pandas, plt=pyplot)
    start_control_reader(options.control_fd, interrupter.interrupt)

    confinement = apply_confinement()

    interrupter.install()
    streams.install()
    sys.stdin = _NoInput()
    sys.argv = ['']
    channel.send(
        None,
        'ready',
        {'protocol': protocol_version, 'python': platform.python_version(), 'pid': os.getpid(), 'confinement': confinement},
    )
    try:
        kernel.serve(requests)
    except BrokenPipeError:
        pass  # the host closed the reply pipe: nobody is listening any more
    try:
        streams.attach(None)
    except OSError:
        pass
    # os._exit: a thread or atexit handler left by a cell must not keep the kernel alive.
    sys.__stdout__.flush()
    sys.__stderr__.flush()
    os._exit(0)


if __name__ == '__main__':
    main(sys.argv[1:])
