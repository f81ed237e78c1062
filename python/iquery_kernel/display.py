"""MIME bundles for values a cell shows, and the ``display()`` function cells call.

A bundle always has ``text/plain`` (the repr, which the model reads); richer types are added
for the host's UI: tables for DataFrames and Series, images for figures, and whatever an object
offers through IPython's ``_repr_html_`` / ``_repr_png_`` / ``_repr_svg_`` conventions.
"""

import base64

import pandas

from iquery_kernel import figures
from iquery_kernel.table import table_mime_type, table_preview

_rich_representations = (
    ('text/html', '_repr_html_'),
    ('image/png', '_repr_png_'),
    ('image/svg+xml', '_repr_svg_'),
)


def mime_bundle(value, svg=False, preview_rows=50):
    """The bundle for ``value``. A figure is rendered and closed (see ``figures.figure_bundle``).

    An error in ``repr`` propagates, like an error in the cell. A rich method that fails or
    returns None (IPython's way of declining) is skipped: the value still shows as text.
    """
    if figures.is_figure(value):
        return figures.figure_bundle(value, svg)
    bundle = {'text/plain': repr(value)}
    if isinstance(value, (pandas.DataFrame, pandas.Series)):
        preview = value.head(preview_rows)
        frame = preview.to_frame() if isinstance(preview, pandas.Series) else preview
        bundle['text/html'] = frame.to_html()
        bundle[table_mime_type] = table_preview(value, preview_rows)
        return bundle
    for mime_type, method_name in _rich_representations:
        method = getattr(value, method_name, None)
        if not callable(method) or isinstance(value, type):
            continue
        try:
            data = method()
        except Exception:
            continue
        if isinstance(data, tuple):  # IPython allows (data, metadata)
            data = data[0]
        if data is None:
            continue
        if mime_type == 'image/png' and isinstance(data, bytes):
            data = base64.b64encode(data).decode('ascii')
        bundle[mime_type] = data
    return bundle


class OutputPublisher:
    """Sends the outputs of the request being handled: ``display_data``, ``execute_result``, ``error``.

    Stream text is flushed first so that the host sees outputs in the order the cell made them.
    """

    def __init__(self, channel, streams, preview_rows):
        self._channel = channel
        self._streams = streams
        self.preview_rows = preview_rows
        self.request_id = None
        self.svg = False

    def begin(self, request_id, svg):
        self.request_id = request_id
        self.svg = svg

    def display(self, *values):
        """The ``display()`` of the cell namespace: one ``display_data`` per value."""
        for value in values:
            self._send('display_data', {'data': self.bundle(value)})

    def execute_result(self, value, execution_count):
        self._send('execute_result', {'execution_count': execution_count, 'data': self.bundle(value)})

    def error(self, content):
        """Sends an ``error`` message (``{ename, evalue, traceback}``)."""
        self._send('error', content)

    def show_open_figures(self):
        """Sends every open pyplot figure and closes it: ``plt.show()`` and the end of each cell.

        A figure that fails to render is closed all the same; the first failure is raised after
        the other figures are sent.
        """
        failure = None
        for figure in figures.take_open_figures():
            try:
                bundle = figures.figure_bundle(figure, self.svg)
            except Exception as error:
                failure = failure or error
                continue
            self._send('display_data', {'data': bundle})
        if failure is not None:
            raise failure

    def bundle(self, value):
        return mime_bundle(value, svg=self.svg, preview_rows=self.preview_rows)

    def _send(self, message_type, content):
        if self.request_id is None:
            return  # a thread displaying between requests: there is no request to attach it to
        self._streams.flush()
        self._channel.send(self.request_id, message_type, content)
