"""Matplotlib in the kernel: its start-up environment, Chinese fonts, and figures as MIME bundles.

Matplotlib scans every system font and writes ``fontlist-*.json`` into ``MPLCONFIGDIR`` when that
file is missing, which costs start-up time in a sandbox whose /tmp is new every time. The host builds
the list once (``python -m iquery_kernel.build_font_cache DIR``) and names DIR in
``IQUERY_MPL_CACHE``; the kernel copies it in before matplotlib is imported.
"""

import base64
import glob
import io
import os
import shutil
import sys
import tempfile

chinese_capable_fonts = ['Noto Sans CJK SC', 'Noto Sans CJK JP', 'DejaVu Sans']
"""Tried in order. Matplotlib reads only the first face of Noto's .ttc, registered as "JP"; its
glyphs cover simplified Chinese too, and "SC" wins wherever a separate SC file is installed."""

figure_dpi = 100


def prepare_matplotlib_environment():
    """Sets the environment matplotlib reads at import: must run before ``import matplotlib``.

    ``MPLCONFIGDIR`` defaults to ``<tmp>/matplotlib`` (created); a prebuilt font list from
    ``IQUERY_MPL_CACHE`` is copied in unless one is already there. The backend is always Agg.
    """
    os.environ['MPLBACKEND'] = 'Agg'
    config_directory = os.environ.setdefault('MPLCONFIGDIR', os.path.join(tempfile.gettempdir(), 'matplotlib'))
    try:
        os.makedirs(config_directory, exist_ok=True)
    except OSError:
        del os.environ['MPLCONFIGDIR']  # matplotlib then falls back to a temporary folder of its own
        return
    prebuilt_directory = os.environ.get('IQUERY_MPL_CACHE')
    if prebuilt_directory:
        for prebuilt in glob.glob(os.path.join(prebuilt_directory, 'fontlist-*.json')):
            target = os.path.join(config_directory, os.path.basename(prebuilt))
            if not os.path.exists(target):
                shutil.copyfile(prebuilt, target)


def configure_matplotlib(show):
    """Imports pyplot with Chinese-capable fonts, and makes ``plt.show()`` call ``show``."""
    import matplotlib

    matplotlib.use('Agg')
    matplotlib.rcParams['font.sans-serif'] = chinese_capable_fonts + [
        font for font in matplotlib.rcParams['font.sans-serif'] if font not in chinese_capable_fonts
    ]
    matplotlib.rcParams['axes.unicode_minus'] = False
    from matplotlib import pyplot

    def pyplot_show(*arguments, **keywords):
        """``plt.show()`` in the kernel: sends the open figures now (a plain function, since
        pyplot sets ``__signature__`` on whatever ``show`` it holds)."""
        show()

    pyplot.show = pyplot_show


def is_figure(value):
    """True for a matplotlib Figure, without importing matplotlib when the cell never did."""
    figure_module = sys.modules.get('matplotlib.figure')
    return figure_module is not None and isinstance(value, figure_module.Figure)


def figure_bundle(figure, svg):
    """PNG (always) and SVG (when asked) of ``figure``, plus its repr as text/plain.

    The figure is closed in pyplot afterwards, so that it is not shown a second time at the end
    of the cell; the object itself stays usable (``savefig`` still works).
    """
    from matplotlib import pyplot

    try:
        bundle = {
            'text/plain': repr(figure),
            'image/png': base64.b64encode(_render(figure, 'png')).decode('ascii'),
        }
        if svg:
            bundle['image/svg+xml'] = _render(figure, 'svg').decode('utf-8')
        return bundle
    finally:
        pyplot.close(figure)  # also when rendering failed, or the figure would fail every cell


def take_open_figures():
    """Returns pyplot's open figures, oldest first; ``figure_bundle`` closes each as it is shown."""
    from matplotlib import pyplot

    return [pyplot.figure(number) for number in pyplot.get_fignums()]


def _render(figure, image_format):
    buffer = io.BytesIO()
    figure.savefig(buffer, format=image_format, dpi=figure_dpi, bbox_inches='tight')
    return buffer.getvalue()
