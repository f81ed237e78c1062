"""``python -m iquery_kernel.build_font_cache DIR``: builds matplotlib's font list into DIR.

The host's set-up runs this once (after fonts are installed) and gives DIR to kernels as
``IQUERY_MPL_CACHE``. An existing list in DIR is rebuilt, so re-running picks up new fonts. The list
holds absolute font paths: the sandbox must mount the font folders at the same paths.
"""

import glob
import os
import sys


def build_font_cache(directory):
    """Writes ``fontlist-*.json`` into ``directory`` (created) and returns its path."""
    os.makedirs(directory, exist_ok=True)
    for stale in glob.glob(os.path.join(directory, 'fontlist-*.json')):
        os.remove(stale)
    os.environ['MPLCONFIGDIR'] = os.path.abspath(directory)
    os.environ['MPLBACKEND'] = 'Agg'
    import matplotlib.font_manager  # builds and saves the list on import when it is missing

    built = glob.glob(os.path.join(directory, 'fontlist-*.json'))
    if not built:
        raise RuntimeError(f'matplotlib did not write a font list into {directory}')
    return built[0]


def main(arguments):
    if len(arguments) != 1:
        print('usage: python -m iquery_kernel.build_font_cache DIR', file=sys.stderr)
        return 2
    print(build_font_cache(arguments[0]))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
