"""The data hand-off: frames (columnar binary folders) to and from pandas DataFrames.

A frame is a folder with ``manifest.json`` and little-endian column files, specified in
``src/sandbox/frames/FORMAT.md``; the host writes them with ``writeQueryFrame`` and reads them with
``readFrame``. Reading is ``numpy.fromfile`` plus vectorised conversion, never a Python object per
value, except for plain (non-category) strings, which pandas holds as Python ``str`` objects anyway.

How values arrive in pandas 1.5:

- integers: numpy ``int8``…``uint64`` without nulls, pandas nullable ``Int64`` etc. with nulls
  (exact; a float with NaN would round integers above 2**53);
- ``int128`` (DuckDB HUGEINT, e.g. ``SUM`` of a BIGINT): ``int64`` / ``Int64`` when every value fits,
  else ``float64``;
- floats: ``float32``/``float64``, nulls as NaN;
- booleans: ``bool``, or pandas nullable ``boolean`` with nulls;
- dates and timestamps: ``datetime64[ns]`` (pandas 1.5 supports no other unit), time-zoned ones
  ``datetime64[ns, tz]``; nulls and values outside 1677-09-21…2262-04-11 become NaT;
- decimals: ``float64`` (value / 10**scale; 15–17 significant digits, nulls as NaN);
- categories: ``pandas.Categorical`` (codes as written, -1 = null); plain strings: ``object``
  arrays of ``str``, nulls as None.

Only numpy and pandas are imported: the kernel sandbox has nothing else.
"""

import json
import os

import numpy
import pandas

FORMAT = 'iquery-frame'
VERSION = 1
MANIFEST = 'manifest.json'

_NAT = numpy.iinfo(numpy.int64).min
_NANOSECONDS = {'s': 1_000_000_000, 'ms': 1_000_000, 'us': 1_000, 'ns': 1}
_DAY_NANOSECONDS = 86_400 * 1_000_000_000
# Dates pandas' nanoseconds can hold: 1677-09-22 … 2262-04-11 (whole days inside the int64 range).
_MAX_DAYS = numpy.iinfo(numpy.int64).max // _DAY_NANOSECONDS
_INTEGER_DTYPES = {
    'int8': '<i1', 'int16': '<i2', 'int32': '<i4', 'int64': '<i8',
    'uint8': '<u1', 'uint16': '<u2', 'uint32': '<u4', 'uint64': '<u8',
}
_NULLABLE_INTEGERS = {
    'int8': 'Int8', 'int16': 'Int16', 'int32': 'Int32', 'int64': 'Int64',
    'uint8': 'UInt8', 'uint16': 'UInt16', 'uint32': 'UInt32', 'uint64': 'UInt64',
}
_DECIMAL_STORAGE = {'int16': '<i2', 'int32': '<i4', 'int64': '<i8', 'float64': '<f8'}
# A string column is written as a category unless its distinct values are many (over this) and
# more than half of its rows: then plain strings (the TypeScript writer uses the same rule).
_CATEGORY_MINIMUM = 100_000
# Plain strings are decoded and encoded this many rows at a time, to bound temporary memory.
_STRING_BLOCK = 1 << 20


class FrameError(ValueError):
    """A frame that cannot be read: a malformed manifest or a file shorter than it says."""


# --------------------------------------------------------------------------------------------
# Reading


def read_frame(manifest_path):
    """Reads the frame whose ``manifest.json`` is at ``manifest_path`` into a DataFrame.

    Columns keep the manifest's order and names (duplicates included); the index is a RangeIndex.
    """
    folder = os.path.dirname(os.path.abspath(manifest_path))
    with open(manifest_path, 'rb') as handle:
        manifest = json.loads(handle.read())
    if not isinstance(manifest, dict) or manifest.get('format') != FORMAT or manifest.get('version') != VERSION:
        raise FrameError(f'{manifest_path} is not an {FORMAT} manifest of version {VERSION}')
    rows = manifest.get('rows')
    columns = manifest.get('columns')
    if not isinstance(rows, int) or rows < 0 or not isinstance(columns, list):
        raise FrameError(f'{manifest_path}: "rows" and "columns" are missing or malformed')
    reader = _ColumnReader(folder, rows)
    arrays = [reader.read(column) for column in columns]
    names = [str(column.get('name', '')) for column in columns]
    if not arrays:
        return pandas.DataFrame(index=pandas.RangeIndex(rows))
    # copy=False keeps each column its own block: consolidating same-typed columns into one 2-D
    # block would copy every value once more.
    frame = pandas.DataFrame(dict(enumerate(arrays)), index=pandas.RangeIndex(rows), copy=False)
    frame.columns = pandas.Index(names, dtype=object)
    return frame


class _ColumnReader:
    def __init__(self, folder, rows):
        self.folder = folder
        self.rows = rows

    def read(self, column):
        if not isinstance(column, dict):
            raise FrameError('a column entry is not an object')
        kind = column.get('kind')
        reader = getattr(self, '_read_' + str(kind), None)
        if reader is None:
            raise FrameError(f'column {column.get("name")!r} has an unknown kind {kind!r}')
        return reader(column)

    # -- files

    def _path(self, column, key):
        name = column.get(key)
        if not isinstance(name, str) or not name or name.startswith('.') or '/' in name or '\\' in name or '\0' in name:
            raise FrameError(f'column {column.get("name")!r}: {key} {name!r} is not a plain file name')
        return os.path.join(self.folder, name)

    def _array(self, column, key, dtype, count):
        values = numpy.fromfile(self._path(column, key), dtype=dtype, count=count)
        if len(values) != count:
            raise FrameError(f'column {column.get("name")!r}: {column.get(key)} holds {len(values)} values, expected {count}')
        return values

    def _missing(self, column):
        """A boolean mask of the null rows, or None when the column has no validity file."""
        if not column.get('validity'):
            return None
        bits = self._array(column, 'validity', numpy.uint8, (self.rows + 7) // 8)
        valid = numpy.unpackbits(bits, count=self.rows, bitorder='little').view(numpy.bool_)
        return ~valid

    # -- kinds

    def _read_bool(self, column):
        values = self._array(column, 'data', numpy.uint8, self.rows) != 0
        missing = self._missing(column)
        if missing is None:
            return values
        values[missing] = False
        return pandas.arrays.BooleanArray(values, missing)

    def _integers(self, column):
        kind = column['kind']
        values = self._array(column, 'data', _INTEGER_DTYPES[kind], self.rows)
        missing = self._missing(column)
        if missing is None:
            return values
        values[missing] = 0
        return pandas.arrays.IntegerArray(values, missing)

    _read_int8 = _read_int16 = _read_int32 = _read_int64 = _integers
    _read_uint8 = _read_uint16 = _read_uint32 = _read_uint64 = _integers

    def _int128_parts(self, column):
        words = self._array(column, 'data', '<u8', self.rows * 2)
        return words[0::2], words[1::2].view('<i8')

    def _read_int128(self, column):
        low, high = self._int128_parts(column)
        missing = self._missing(column)
        signed_low = numpy.ascontiguousarray(low).view('<i8')
        fits = high == (signed_low >> 63)
        if missing is not None:
            fits |= missing
        if fits.all():
            values = signed_low.copy()
            if missing is None:
                return values
            values[missing] = 0
            return pandas.arrays.IntegerArray(values, missing)
        values = _int128_to_float(low, high)
        if missing is not None:
            values[missing] = numpy.nan
        return values

    def _floats(self, column):
        values = self._array(column, 'data', '<f4' if column['kind'] == 'float32' else '<f8', self.rows)
        missing = self._missing(column)
        if missing is not None:
            values[missing] = numpy.nan
        return values

    _read_float32 = _read_float64 = _floats

    def _read_decimal(self, column):
        storage = column.get('storage')
        if storage == 'int128':
            values = _int128_to_float(*self._int128_parts(column))
        elif storage in _DECIMAL_STORAGE:
            values = self._array(column, 'data', _DECIMAL_STORAGE[storage], self.rows).astype(numpy.float64)
        else:
            raise FrameError(f'column {column.get("name")!r}: unknown decimal storage {storage!r}')
        scale = column.get('scale') or 0
        if storage != 'float64' and scale:
            values /= 10.0 ** scale  # a division, so that 1234 / 100 is the double nearest 12.34
        missing = self._missing(column)
        if missing is not None:
            values[missing] = numpy.nan
        return values

    def _read_date32(self, column):
        days = self._array(column, 'data', '<i4', self.rows)
        # Two quick scans of the int32 days usually show every date in range; the mask is built only if not.
        outside = None
        if len(days) and (days.min() < -_MAX_DAYS or days.max() > _MAX_DAYS):
            outside = numpy.abs(days.astype(numpy.int64)) > _MAX_DAYS
        nanoseconds = numpy.multiply(days, _DAY_NANOSECONDS, dtype=numpy.int64)
        return self._datetimes(column, nanoseconds, outside, None)

    def _read_timestamp(self, column):
        values = self._array(column, 'data', '<i8', self.rows)
        factor = _NANOSECONDS.get(column.get('unit'))
        if factor is None:
            raise FrameError(f'column {column.get("name")!r}: unknown unit {column.get("unit")!r}')
        outside = None
        if factor != 1:
            limit = numpy.iinfo(numpy.int64).max // factor
            outside = (values > limit) | (values < -limit)
            values = values * factor
        return self._datetimes(column, values, outside, column.get('timezone'))

    def _datetimes(self, column, nanoseconds, outside, timezone):
        missing = self._missing(column)
        if outside is not None and outside.any():
            missing = outside if missing is None else (missing | outside)
        if missing is not None:
            nanoseconds[missing] = _NAT
        values = nanoseconds.view('M8[ns]')
        if timezone:
            return pandas.DatetimeIndex(values).tz_localize('UTC').tz_convert(timezone).array
        return values

    def _read_duration(self, column):
        values = self._array(column, 'data', '<i8', self.rows)
        factor = _NANOSECONDS.get(column.get('unit'))
        if factor is None:
            raise FrameError(f'column {column.get("name")!r}: unknown unit {column.get("unit")!r}')
        missing = self._missing(column)
        if factor != 1:
            limit = numpy.iinfo(numpy.int64).max // factor
            outside = (values > limit) | (values < -limit)
            values = values * factor
            missing = outside if missing is None else (missing | outside)
        if missing is not None:
            values[missing] = _NAT
        return values.view('m8[ns]')

    def _read_category(self, column):
        count = column.get('categories')
        if not isinstance(count, int) or count < 0:
            raise FrameError(f'column {column.get("name")!r}: "categories" is not a count')
        codes = self._array(column, 'codes', '<i4', self.rows)
        offsets = self._array(column, 'dictionary_offsets', '<i8', count + 1)
        data = self._array(column, 'dictionary', numpy.uint8, int(offsets[-1]))
        categories = pandas.Index(_decode_strings(data, offsets), dtype=object)
        return pandas.Categorical.from_codes(codes, categories=categories)

    def _read_string(self, column):
        offsets = self._array(column, 'offsets', '<i8', self.rows + 1)
        data = self._array(column, 'data', numpy.uint8, int(offsets[-1]))
        values = _decode_strings(data, offsets)
        missing = self._missing(column)
        if missing is not None:
            values[missing] = None
        return values


def _int128_to_float(low, high):
    """high * 2**64 + low, with the low word taken as signed so that small negatives stay exact."""
    signed_low = numpy.ascontiguousarray(low).view('<i8')
    upper = high.astype(numpy.float64) + (signed_low < 0)
    return upper * 18446744073709551616.0 + signed_low.astype(numpy.float64)


def _decode_strings(data, offsets):
    """UTF-8 ``data`` cut at byte ``offsets`` (n + 1 of them) into an object array of n ``str``.

    Each block is decoded once; a string is then a slice of the decoded text. For non-ASCII text the
    byte offsets become character offsets by subtracting the continuation bytes (10xxxxxx) before them.
    """
    count = len(offsets) - 1
    strings = numpy.empty(count, dtype=object)
    if count > 0 and (numpy.diff(offsets) < 0).any():
        raise FrameError('string offsets go backwards')
    for start in range(0, count, _STRING_BLOCK):
        stop = min(count, start + _STRING_BLOCK)
        first = int(offsets[start])
        block = data[first:int(offsets[stop])]
        text = block.tobytes().decode('utf-8', 'surrogatepass')
        positions = offsets[start:stop + 1] - first
        if len(text) != len(block):
            continuations = numpy.zeros(len(block) + 1, dtype=numpy.int64)
            numpy.cumsum((block & 0xC0) == 0x80, out=continuations[1:])
            positions = positions - continuations[positions]
        bounds = positions.tolist()
        strings[start:stop] = [text[bounds[index]:bounds[index + 1]] for index in range(stop - start)]
    return strings


# --------------------------------------------------------------------------------------------
# Writing


def write_frame(frame, directory):
    """Writes DataFrame ``frame`` as a frame in ``directory`` (created; must be absent or empty).

    Returns the path of its ``manifest.json``. An index other than the default RangeIndex becomes
    columns first (``reset_index``), so a groupby result keeps its keys. Column names become text
    (tuples of a MultiIndex joined with ``_``). See the module comment for how types are stored;
    values of an ``object`` column that are not all of one kind are written as their ``str()``.
    """
    if not isinstance(frame, pandas.DataFrame):
        raise TypeError(f'write_frame takes a DataFrame, not {type(frame).__name__}')
    os.makedirs(directory, exist_ok=True)
    if os.listdir(directory):
        raise FileExistsError(f'the frame folder {directory} is not empty')
    index = frame.index
    default = isinstance(index, pandas.RangeIndex) and index.start == 0 and index.step == 1
    if not default and not (len(index) == 0 and index.nlevels == 1 and index.name is None):
        frame = frame.reset_index(allow_duplicates=True)
    writer = _ColumnWriter(directory, len(frame))
    columns = [
        writer.write(f'c{position}', _column_name(frame.columns[position]), frame.iloc[:, position])
        for position in range(frame.shape[1])
    ]
    manifest = {'format': FORMAT, 'version': VERSION, 'rows': len(frame), 'columns': columns}
    path = os.path.join(directory, MANIFEST)
    temporary = path + '.writing'
    with open(temporary, 'w', encoding='utf-8') as handle:
        json.dump(manifest, handle, ensure_ascii=False, indent=1)
    os.replace(temporary, path)
    return path


def _column_name(name):
    if isinstance(name, tuple):
        return '_'.join(str(part) for part in name if str(part) != '')
    return str(name)


class _ColumnWriter:
    def __init__(self, directory, rows):
        self.directory = directory
        self.rows = rows

    def write(self, prefix, name, series):
        entry = self._entry(prefix, series)
        return {'name': name, 'native_type': str(series.dtype), **entry}

    # -- files

    def _file(self, prefix, suffix, array):
        name = f'{prefix}.{suffix}'
        numpy.ascontiguousarray(array).tofile(os.path.join(self.directory, name))
        return name

    def _fixed(self, prefix, values, missing, **storage):
        entry = dict(storage, data=self._file(prefix, 'data', values), nulls=0)
        if missing is not None and missing.any():
            bits = numpy.packbits(~missing, bitorder='little')
            entry['validity'] = self._file(prefix, 'validity', bits)
            entry['nulls'] = int(missing.sum())
        return entry

    # -- dtypes

    def _entry(self, prefix, series):
        dtype = series.dtype
        missing = series.isna().to_numpy(dtype=bool)
        if isinstance(dtype, pandas.CategoricalDtype):
            categories = dtype.categories
            if pandas.api.types.infer_dtype(categories, skipna=True) in ('string', 'empty'):
                return self._category(prefix, series.cat.codes.to_numpy(), list(categories))
            return self._entry(prefix, series.astype(object))
        if isinstance(dtype, pandas.DatetimeTZDtype):
            values = series.to_numpy(dtype='datetime64[ns]').view('<i8')
            return self._fixed(prefix, values, missing, kind='timestamp', unit='ns', timezone=str(dtype.tz))
        if pandas.api.types.is_datetime64_dtype(dtype):
            values = series.to_numpy(dtype='datetime64[ns]').view('<i8')
            return self._fixed(prefix, values, missing, kind='timestamp', unit='ns')
        if pandas.api.types.is_timedelta64_dtype(dtype):
            values = series.to_numpy(dtype='timedelta64[ns]').view('<i8')
            return self._fixed(prefix, values, missing, kind='duration', unit='ns')
        if pandas.api.types.is_bool_dtype(dtype):
            values = series.to_numpy(dtype=bool, na_value=False).view(numpy.uint8)
            return self._fixed(prefix, values, missing, kind='bool')
        if pandas.api.types.is_integer_dtype(dtype):
            kind = numpy.dtype(dtype.numpy_dtype if isinstance(dtype, pandas.api.extensions.ExtensionDtype) else dtype).name
            values = series.to_numpy(dtype=_INTEGER_DTYPES[kind], na_value=0)
            return self._fixed(prefix, values, missing, kind=kind)
        if pandas.api.types.is_float_dtype(dtype):
            wide = numpy.dtype(dtype.numpy_dtype if isinstance(dtype, pandas.api.extensions.ExtensionDtype) else dtype).itemsize == 8
            values = series.to_numpy(dtype='<f8' if wide else '<f4', na_value=numpy.nan)
            return self._fixed(prefix, values, missing, kind='float64' if wide else 'float32')
        return self._objects(prefix, series, missing)

    def _objects(self, prefix, series, missing):
        """Columns of Python objects (and pandas' string dtype), by what they hold."""
        inferred = pandas.api.types.infer_dtype(series, skipna=True)
        present = series[~missing]
        if inferred in ('string', 'empty'):
            return self._strings(prefix, series, missing)
        if inferred == 'boolean':
            values = numpy.zeros(self.rows, dtype=numpy.uint8)
            values[~missing] = present.astype(bool).to_numpy(dtype=numpy.uint8)
            return self._fixed(prefix, values, missing, kind='bool')
        if inferred == 'integer':
            try:
                values = numpy.zeros(self.rows, dtype='<i8')
                values[~missing] = numpy.asarray(present.tolist(), dtype='<i8')
                return self._fixed(prefix, values, missing, kind='int64')
            except OverflowError:
                pass  # beyond 64 bits: exact text below
        elif inferred in ('floating', 'mixed-integer-float', 'decimal'):
            values = series.astype(numpy.float64).to_numpy()
            storage = {'kind': 'decimal', 'storage': 'float64'} if inferred == 'decimal' else {'kind': 'float64'}
            return self._fixed(prefix, values, missing, **storage)
        elif inferred == 'date':
            days = numpy.zeros(self.rows, dtype='<i4')
            days[~missing] = (pandas.to_datetime(present).to_numpy(dtype='datetime64[D]').view('<i8')).astype('<i4')
            return self._fixed(prefix, days, missing, kind='date32')
        elif inferred in ('datetime', 'datetime64'):
            try:
                stamps = pandas.to_datetime(series)
            except (ValueError, TypeError):
                stamps = None  # mixed time zones: text below
            if stamps is not None:
                return self._entry(prefix, stamps)
        text = series.astype(object).where(~missing, None).map(lambda value: value if value is None else _text(value))
        return self._strings(prefix, text, missing)

    def _strings(self, prefix, series, missing):
        codes, uniques = pandas.factorize(series.to_numpy(dtype=object))
        if len(uniques) > _CATEGORY_MINIMUM and len(uniques) * 2 > self.rows:
            return self._plain(prefix, series.to_numpy(dtype=object), missing)
        return self._category(prefix, codes, [str(value) for value in uniques])

    def _category(self, prefix, codes, categories):
        offsets, data = _encode_strings(categories)
        codes = numpy.asarray(codes, dtype='<i4')
        return {
            'kind': 'category',
            'codes': self._file(prefix, 'codes', codes),
            'categories': len(categories),
            'dictionary_offsets': self._file(prefix, 'dictionary_offsets', offsets),
            'dictionary': self._file(prefix, 'dictionary', numpy.frombuffer(data, dtype=numpy.uint8)),
            'nulls': int((codes < 0).sum()),
        }

    def _plain(self, prefix, values, missing):
        offsets_name, data_name = f'{prefix}.offsets', f'{prefix}.data'
        with open(os.path.join(self.directory, offsets_name), 'wb') as offsets_file, open(os.path.join(self.directory, data_name), 'wb') as data_file:
            numpy.zeros(1, dtype='<i8').tofile(offsets_file)
            written = 0
            for start in range(0, len(values), _STRING_BLOCK):
                block = ['' if missing[start + index] else value for index, value in enumerate(values[start:start + _STRING_BLOCK])]
                offsets, data = _encode_strings(block)
                (offsets[1:] + written).tofile(offsets_file)
                data_file.write(data)
                written += len(data)
        entry = {'kind': 'string', 'offsets': offsets_name, 'data': data_name, 'nulls': 0}
        if missing.any():
            entry['validity'] = self._file(prefix, 'validity', numpy.packbits(~missing, bitorder='little'))
            entry['nulls'] = int(missing.sum())
        return entry


def _text(value):
    if isinstance(value, bytes):
        return value.decode('utf-8', 'replace')
    return str(value)


def _encode_strings(strings):
    """UTF-8 bytes of ``strings`` back to back, with their n + 1 int64 offsets."""
    encoded = [text.encode('utf-8', 'surrogatepass') for text in strings]
    offsets = numpy.zeros(len(encoded) + 1, dtype='<i8')
    if encoded:
        numpy.cumsum([len(item) for item in encoded], out=offsets[1:])
    return offsets, b''.join(encoded)
