"""The ``application/vnd.iquery.table+json`` preview of a DataFrame or Series.

The host shows the preview and hands it to the model, so every value must survive JSON.parse and
mean the same thing in JavaScript: NaN, None, NaT and pd.NA become null; infinities become the
strings "inf"/"-inf"; integers beyond 2**53 (ids, which JavaScript would silently round) become
strings; dates and times become ISO text; Decimal becomes float; anything else becomes its str().
"""

import datetime
import decimal
import math

import numpy
import pandas

table_mime_type = 'application/vnd.iquery.table+json'

largest_exact_integer = 2**53
"""Beyond this JavaScript numbers lose integer precision."""


def table_preview(data, preview_rows):
    """Returns ``{columns, dtypes, rows, row_count, truncated}`` for the first ``preview_rows`` rows.

    A meaningful index (anything but the default 0..n-1 range) becomes leading columns, since
    after a group-by it is the data; ``columns`` are strings (tuples of a MultiIndex joined by " / ").
    """
    frame = data.to_frame() if isinstance(data, pandas.Series) else data
    head = frame.head(preview_rows)
    if not _is_default_index(head.index):
        head = head.reset_index(allow_duplicates=True)
    return {
        'columns': [_column_name(column) for column in head.columns],
        'dtypes': [str(dtype) for dtype in head.dtypes],
        'rows': [[json_safe_value(value) for value in row] for row in head.itertuples(index=False, name=None)],
        'row_count': len(frame),
        'truncated': len(frame) > preview_rows,
    }


def json_safe_value(value):
    """One cell value as a JSON-safe Python value (see the module docstring for the mapping)."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numpy.generic) and not isinstance(value, (numpy.datetime64, numpy.timedelta64)):
        return json_safe_value(value.item())
    if isinstance(value, int):
        return value if abs(value) <= largest_exact_integer else str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if math.isinf(value):
            return 'inf' if value > 0 else '-inf'
        return value
    if value is pandas.NaT or value is pandas.NA:
        return None
    if isinstance(value, numpy.datetime64):
        return json_safe_value(pandas.Timestamp(value))
    if isinstance(value, numpy.timedelta64):
        return json_safe_value(pandas.Timedelta(value))
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return json_safe_value(float(value))
    if isinstance(value, bytes):
        return value.decode('utf-8', errors='replace')
    if isinstance(value, (list, tuple)):
        return [json_safe_value(item) for item in value]
    if isinstance(value, dict):
        return {str(key): json_safe_value(item) for key, item in value.items()}
    return str(value)


def _is_default_index(index):
    return (
        isinstance(index, pandas.RangeIndex)
        and index.name is None
        and index.step == 1
        and (len(index) == 0 or index.start == 0)
    )


def _column_name(column):
    if isinstance(column, tuple):
        return ' / '.join(str(part) for part in column if part != '')
    return str(column)
