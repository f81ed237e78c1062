"""frames.py: write_frame / read_frame round trips, and frames written by hand as the host writes them."""

import datetime
import decimal
import json
import os
import shutil
import sys
import tempfile
import unittest

import numpy
import pandas
import pandas.testing

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # python/, from any working directory
from iquery_kernel import frames  # noqa: E402


class FrameTestCase(unittest.TestCase):
    def setUp(self):
        self.folder = tempfile.mkdtemp(prefix='iquery-frames-test-')
        self.count = 0

    def tearDown(self):
        shutil.rmtree(self.folder, ignore_errors=True)

    def new_folder(self):
        self.count += 1
        return os.path.join(self.folder, f'frame-{self.count}')

    def round_trip(self, frame):
        manifest = frames.write_frame(frame, self.new_folder())
        with open(manifest, encoding='utf-8') as handle:
            return frames.read_frame(manifest), json.load(handle)

    def write_manifest(self, rows, columns, files):
        """A frame written by hand: ``files`` maps file names to bytes (or numpy arrays)."""
        folder = self.new_folder()
        os.makedirs(folder)
        for name, content in files.items():
            with open(os.path.join(folder, name), 'wb') as handle:
                handle.write(content.tobytes() if isinstance(content, numpy.ndarray) else content)
        path = os.path.join(folder, 'manifest.json')
        with open(path, 'w', encoding='utf-8') as handle:
            json.dump({'format': 'iquery-frame', 'version': 1, 'rows': rows, 'columns': columns}, handle)
        return path


def validity(valid):
    return numpy.packbits(numpy.asarray(valid, dtype=bool), bitorder='little')


class RoundTripTest(FrameTestCase):
    def test_numbers_keep_their_dtypes(self):
        frame = pandas.DataFrame({
            'i8': numpy.array([-128, 0, 127], dtype=numpy.int8),
            'i16': numpy.array([-32768, 1, 32767], dtype=numpy.int16),
            'i32': numpy.array([-2**31, 2, 2**31 - 1], dtype=numpy.int32),
            'i64': numpy.array([-2**63, 3, 2**63 - 1], dtype=numpy.int64),
            'u8': numpy.array([0, 1, 255], dtype=numpy.uint8),
            'u16': numpy.array([0, 1, 65535], dtype=numpy.uint16),
            'u32': numpy.array([0, 1, 2**32 - 1], dtype=numpy.uint32),
            'u64': numpy.array([0, 1, 2**64 - 1], dtype=numpy.uint64),
            'f32': numpy.array([1.5, numpy.nan, -0.25], dtype=numpy.float32),
            'f64': [0.1, numpy.nan, float('inf')],
            'flag': [True, False, True],
        })
        back, manifest = self.round_trip(frame)
        pandas.testing.assert_frame_equal(back, frame)
        self.assertEqual([column['kind'] for column in manifest['columns']],
                         ['int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'float32', 'float64', 'bool'])
        self.assertEqual(manifest['columns'][9]['nulls'], 1)

    def test_nullable_integers_and_booleans_keep_their_nulls(self):
        frame = pandas.DataFrame({
            'small': pandas.array([1, None, -3], dtype='Int8'),
            'big': pandas.array([2**62, None, -(2**62)], dtype='Int64'),
            'unsigned': pandas.array([None, 7, 2**64 - 1], dtype='UInt64'),
            'answer': pandas.array([True, None, False], dtype='boolean'),
            'ratio': pandas.array([0.5, None, 2.0], dtype='Float64'),
        })
        back, manifest = self.round_trip(frame)
        pandas.testing.assert_frame_equal(back, frame.assign(ratio=[0.5, numpy.nan, 2.0]))
        self.assertEqual([column['nulls'] for column in manifest['columns']], [1, 1, 1, 1, 1])

    def test_dates_times_and_durations(self):
        frame = pandas.DataFrame({
            'naive': pandas.to_datetime(['2024-02-29 12:34:56.789012345', None, '1970-01-01']),
            'zoned': pandas.to_datetime(['2024-01-01 08:00', None, '2000-06-30 23:59:59']).tz_localize('Asia/Shanghai'),
            'span': pandas.to_timedelta(['1 days 02:00:00', None, '-3 s']),
        })
        back, manifest = self.round_trip(frame)
        pandas.testing.assert_frame_equal(back, frame)
        self.assertEqual(manifest['columns'][1]['timezone'], 'Asia/Shanghai')
        self.assertEqual(manifest['columns'][2]['kind'], 'duration')

    def test_strings_with_chinese_emoji_empty_and_null(self):
        words = ['北京', '😀 party', '', None, 'a much longer string than twelve bytes', '北京', 'ascii']
        frame = pandas.DataFrame({'word': words, 'text': pandas.array(words, dtype='string')})
        back, manifest = self.round_trip(frame)
        self.assertEqual(manifest['columns'][0]['kind'], 'category')
        self.assertEqual(manifest['columns'][0]['nulls'], 1)
        self.assertEqual(str(back['word'].dtype), 'category')
        self.assertEqual(back['word'].astype(object).where(back['word'].notna(), None).tolist(), words)
        self.assertEqual(back['text'].astype(object).where(back['text'].notna(), None).tolist(), words)

    def test_categoricals_keep_their_categories_and_codes(self):
        frame = pandas.DataFrame({'region': pandas.Categorical(['east', None, 'west', 'east'], categories=['west', 'east', 'unused'])})
        back, _ = self.round_trip(frame)
        pandas.testing.assert_frame_equal(back, frame)

    def test_non_string_categories_are_written_by_value(self):
        frame = pandas.DataFrame({'size': pandas.Categorical([3, None, 1])})
        back, manifest = self.round_trip(frame)
        self.assertEqual(manifest['columns'][0]['kind'], 'int64')
        self.assertEqual(back['size'].tolist(), [3, pandas.NA, 1])

    def test_many_distinct_strings_become_plain_strings(self):
        words = [f'id-{number}-长' for number in range(150_000)]
        words[5] = None
        frame = pandas.DataFrame({'key': words})
        back, manifest = self.round_trip(frame)
        self.assertEqual(manifest['columns'][0]['kind'], 'string')
        self.assertEqual(back['key'].dtype, object)
        self.assertEqual(back['key'].tolist(), words)

    def test_python_objects(self):
        frame = pandas.DataFrame({
            'price': [decimal.Decimal('12.34'), None, decimal.Decimal('-0.5')],
            'day': [datetime.date(2024, 1, 31), None, datetime.date(1900, 1, 1)],
            'count': pandas.Series([1, None, 2**40], dtype=object),
            'huge': [2**70, 1, None],
            'mixed': [1, 'two', None],
            'raw': [b'\x00ab', None, b'z'],
            'flag': [True, None, False],
        })
        back, manifest = self.round_trip(frame)
        kinds = {column['name']: column['kind'] for column in manifest['columns']}
        self.assertEqual(kinds, {'price': 'decimal', 'day': 'date32', 'count': 'int64', 'huge': 'category',
                                 'mixed': 'category', 'raw': 'category', 'flag': 'bool'})
        self.assertEqual(back['price'].tolist()[0], 12.34)
        self.assertTrue(numpy.isnan(back['price'][1]))
        self.assertEqual(back['day'].tolist()[0], pandas.Timestamp('2024-01-31'))
        self.assertTrue(pandas.isna(back['day'][1]))
        self.assertEqual(back['count'].tolist(), [1, pandas.NA, 2**40])
        self.assertEqual(back['huge'].astype(object).where(back['huge'].notna(), None).tolist(), [str(2**70), '1', None])
        self.assertEqual(back['mixed'].astype(object).where(back['mixed'].notna(), None).tolist(), ['1', 'two', None])
        self.assertEqual(back['raw'][0], '\x00ab')
        self.assertEqual(back['flag'].tolist(), [True, pandas.NA, False])

    def test_empty_frames(self):
        typed = pandas.DataFrame({
            'number': pandas.Series([], dtype='int64'),
            'text': pandas.Series([], dtype=object),
            'when': pandas.Series([], dtype='datetime64[ns]'),
        })
        back, manifest = self.round_trip(typed)
        self.assertEqual(manifest['rows'], 0)
        self.assertEqual(list(back.columns), ['number', 'text', 'when'])
        self.assertEqual(len(back), 0)
        self.assertEqual(str(back['when'].dtype), 'datetime64[ns]')

    def test_zero_columns(self):
        for frame in (pandas.DataFrame(), pandas.DataFrame(index=pandas.RangeIndex(5))):
            with self.subTest(rows=len(frame)):
                back, manifest = self.round_trip(frame)
                self.assertEqual(manifest['columns'], [])
                self.assertEqual(back.shape, (len(frame), 0))

    def test_index_becomes_columns_and_names_are_kept(self):
        frame = pandas.DataFrame({'region': ['east', 'west', 'east'], 'amount': [1.0, 2.0, 3.0]})
        grouped = frame.groupby('region').sum()
        back, _ = self.round_trip(grouped)
        self.assertEqual(list(back.columns), ['region', 'amount'])
        self.assertEqual(back['amount'].tolist(), [4.0, 2.0])

        duplicated = pandas.DataFrame([[1, 2]], columns=['x', 'x'])
        back, _ = self.round_trip(duplicated)
        self.assertEqual(list(back.columns), ['x', 'x'])
        self.assertEqual(back.iloc[0].tolist(), [1, 2])

        wide = pandas.DataFrame([[1, 2]], columns=pandas.MultiIndex.from_tuples([('amount', 'sum'), ('amount', 'mean')]))
        back, _ = self.round_trip(wide)
        self.assertEqual(list(back.columns), ['amount_sum', 'amount_mean'])

    def test_refuses_a_folder_in_use_and_non_frames(self):
        folder = self.new_folder()
        os.makedirs(folder)
        open(os.path.join(folder, 'other.txt'), 'w').close()
        with self.assertRaises(FileExistsError):
            frames.write_frame(pandas.DataFrame({'a': [1]}), folder)
        with self.assertRaises(TypeError):
            frames.write_frame(pandas.Series([1]), self.new_folder())


class HostFrameTest(FrameTestCase):
    """Frames as the host writes them (DuckDB vectors), including kinds write_frame never produces."""

    def test_validity_is_lsb_first_across_bytes(self):
        valid = [True, False, True, True, True, True, True, True, False, True, True]
        path = self.write_manifest(11, [{'name': 'n', 'kind': 'int32', 'data': 'n.data', 'validity': 'n.validity', 'nulls': 2}],
                                   {'n.data': numpy.arange(11, dtype='<i4'), 'n.validity': validity(valid)})
        back = frames.read_frame(path)
        self.assertEqual(str(back['n'].dtype), 'Int32')
        self.assertEqual(back['n'].tolist(), [number if ok else pandas.NA for number, ok in zip(range(11), valid)])

    def test_int128(self):
        def words(values):
            return numpy.array([part for value in values for part in (value & (2**64 - 1), (value >> 64) & (2**64 - 1))], dtype='<u8')

        fitting = [5, -7, 2**63 - 1, -(2**63)]
        path = self.write_manifest(4, [{'name': 'h', 'kind': 'int128', 'data': 'h.data', 'nulls': 0}], {'h.data': words(fitting)})
        back = frames.read_frame(path)
        self.assertEqual(back['h'].dtype, numpy.int64)
        self.assertEqual(back['h'].tolist(), fitting)

        wide = [2**100, -(2**70), 3]
        path = self.write_manifest(3, [{'name': 'h', 'kind': 'int128', 'data': 'h.data', 'validity': 'h.validity', 'nulls': 1}],
                                   {'h.data': words(wide), 'h.validity': validity([True, True, False])})
        back = frames.read_frame(path)
        self.assertEqual(back['h'].dtype, numpy.float64)
        self.assertEqual(back['h'][0], float(2**100))
        self.assertEqual(back['h'][1], -float(2**70))
        self.assertTrue(numpy.isnan(back['h'][2]))

    def test_decimals(self):
        columns = [
            {'name': 'd16', 'kind': 'decimal', 'storage': 'int16', 'scale': 1, 'data': 'a', 'nulls': 0},
            {'name': 'd64', 'kind': 'decimal', 'storage': 'int64', 'scale': 2, 'data': 'b', 'validity': 'v', 'nulls': 1},
            {'name': 'd128', 'kind': 'decimal', 'storage': 'int128', 'scale': 4, 'data': 'c', 'nulls': 0},
        ]
        files = {
            'a': numpy.array([-15, 999], dtype='<i2'),
            'b': numpy.array([1234, 0], dtype='<i8'),
            'v': validity([True, False]),
            'c': numpy.array([123456789, 0, 2**64 - 1, 2**64 - 1], dtype='<u8'),  # 12345.6789 and -0.0001
        }
        back = frames.read_frame(self.write_manifest(2, columns, files))
        self.assertEqual(back['d16'].tolist(), [-1.5, 99.9])
        self.assertEqual(back['d64'][0], 12.34)
        self.assertTrue(numpy.isnan(back['d64'][1]))
        self.assertEqual(back['d128'].tolist(), [12345.6789, -0.0001])

    def test_dates_and_timestamps_in_every_unit(self):
        columns = [
            {'name': 'day', 'kind': 'date32', 'data': 'd', 'nulls': 0},
            {'name': 'seconds', 'kind': 'timestamp', 'unit': 's', 'data': 's', 'nulls': 0},
            {'name': 'millis', 'kind': 'timestamp', 'unit': 'ms', 'data': 'ms', 'nulls': 0},
            {'name': 'micros', 'kind': 'timestamp', 'unit': 'us', 'timezone': 'UTC', 'data': 'us', 'nulls': 0},
            {'name': 'nanos', 'kind': 'timestamp', 'unit': 'ns', 'data': 'ns', 'validity': 'nv', 'nulls': 1},
        ]
        files = {
            'd': numpy.array([19782, -1, 3_000_000], dtype='<i4'),  # 2024-02-29, 1969-12-31, beyond 2262
            's': numpy.array([0, 1_700_000_000, 2**62], dtype='<i8'),
            'ms': numpy.array([1, -1, 10**17], dtype='<i8'),
            'us': numpy.array([1_700_000_000_123_456, 0, -(10**17)], dtype='<i8'),
            'ns': numpy.array([5, 6, 7], dtype='<i8'),
            'nv': validity([True, False, True]),
        }
        back = frames.read_frame(self.write_manifest(3, columns, files))
        self.assertEqual(back['day'].tolist()[:2], [pandas.Timestamp('2024-02-29'), pandas.Timestamp('1969-12-31')])
        self.assertTrue(pandas.isna(back['day'][2]))
        self.assertEqual(back['seconds'][1], pandas.Timestamp('2023-11-14 22:13:20'))
        self.assertTrue(pandas.isna(back['seconds'][2]))
        self.assertEqual(back['millis'][1], pandas.Timestamp('1969-12-31 23:59:59.999'))
        self.assertTrue(pandas.isna(back['millis'][2]))
        self.assertEqual(str(back['micros'].dtype), 'datetime64[ns, UTC]')
        self.assertEqual(back['micros'][0], pandas.Timestamp('2023-11-14 22:13:20.123456', tz='UTC'))
        self.assertTrue(pandas.isna(back['micros'][2]))
        self.assertEqual(back['nanos'][0].value, 5)
        self.assertTrue(pandas.isna(back['nanos'][1]))

    def test_category_with_null_codes_and_plain_strings(self):
        dictionary = ['北京', '', '😀']
        encoded = [text.encode('utf-8') for text in dictionary]
        offsets = numpy.cumsum([0] + [len(item) for item in encoded]).astype('<i8')
        columns = [
            {'name': 'city', 'kind': 'category', 'codes': 'c', 'categories': 3, 'dictionary_offsets': 'o', 'dictionary': 'd', 'nulls': 1},
            {'name': 'note', 'kind': 'string', 'offsets': 'so', 'data': 'sd', 'validity': 'sv', 'nulls': 1},
        ]
        files = {
            'c': numpy.array([0, -1, 2, 1], dtype='<i4'),
            'o': offsets,
            'd': b''.join(encoded),
            'so': numpy.array([0, 6, 6, 10, 11], dtype='<i8'),
            'sd': '北京😀x'.encode('utf-8'),
            'sv': validity([True, False, True, True]),
        }
        back = frames.read_frame(self.write_manifest(4, columns, files))
        self.assertEqual(back['city'].cat.categories.tolist(), dictionary)
        self.assertEqual(back['city'].astype(object).where(back['city'].notna(), None).tolist(), ['北京', None, '😀', ''])
        self.assertEqual(back['note'].tolist(), ['北京', None, '😀', 'x'])

    def test_bad_frames_are_refused(self):
        good = {'name': 'n', 'kind': 'int32', 'data': 'n.data', 'nulls': 0}
        short = self.write_manifest(4, [good], {'n.data': numpy.arange(3, dtype='<i4')})
        with self.assertRaises(frames.FrameError):
            frames.read_frame(short)
        escaping = self.write_manifest(1, [dict(good, data='../n.data')], {})
        with self.assertRaises(frames.FrameError):
            frames.read_frame(escaping)
        unknown = self.write_manifest(1, [dict(good, kind='int7')], {'n.data': numpy.arange(1, dtype='<i4')})
        with self.assertRaises(frames.FrameError):
            frames.read_frame(unknown)
        folder = self.new_folder()
        os.makedirs(folder)
        with open(os.path.join(folder, 'manifest.json'), 'w') as handle:
            json.dump({'format': 'something else', 'version': 1, 'rows': 0, 'columns': []}, handle)
        with self.assertRaises(frames.FrameError):
            frames.read_frame(os.path.join(folder, 'manifest.json'))


if __name__ == '__main__':
    unittest.main()
