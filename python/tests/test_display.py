"""display.mime_bundle and table.py on their own."""

import base64
import datetime
import decimal
import json
import unittest

import kernel_process  # noqa: F401  (puts iquery_kernel on sys.path)
import matplotlib

matplotlib.use('Agg')

import numpy  # noqa: E402
import pandas  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from iquery_kernel.display import mime_bundle  # noqa: E402
from iquery_kernel.table import json_safe_value, table_mime_type, table_preview  # noqa: E402


class JsonSafeValueTest(unittest.TestCase):
    def test_missing_values_become_null(self):
        for missing in (None, float('nan'), numpy.nan, numpy.float32('nan'), pandas.NaT, pandas.NA, numpy.datetime64('NaT')):
            with self.subTest(missing=missing):
                self.assertIsNone(json_safe_value(missing))

    def test_numbers(self):
        self.assertEqual(json_safe_value(numpy.int64(7)), 7)
        self.assertIs(type(json_safe_value(numpy.int64(7))), int)
        self.assertEqual(json_safe_value(numpy.float32(0.5)), 0.5)
        self.assertIs(json_safe_value(numpy.bool_(True)), True)
        self.assertEqual(json_safe_value(float('inf')), 'inf')
        self.assertEqual(json_safe_value(-numpy.inf), '-inf')
        self.assertEqual(json_safe_value(decimal.Decimal('1.25')), 1.25)
        self.assertIsNone(json_safe_value(decimal.Decimal('NaN')))
        self.assertEqual(json_safe_value(2**53), 2**53)
        self.assertEqual(json_safe_value(numpy.int64(2**62)), str(2**62))  # JavaScript would round it

    def test_dates_and_times(self):
        self.assertEqual(json_safe_value(pandas.Timestamp('2024-05-06 07:08:09')), '2024-05-06T07:08:09')
        self.assertEqual(json_safe_value(numpy.datetime64('2024-05-06T07:08')), '2024-05-06T07:08:00')
        self.assertEqual(json_safe_value(datetime.date(2024, 5, 6)), '2024-05-06')
        self.assertEqual(json_safe_value(pandas.Timestamp('2024-05-06', tz='Asia/Shanghai')), '2024-05-06T00:00:00+08:00')
        self.assertEqual(json_safe_value(pandas.Timedelta(hours=1)), '0 days 01:00:00')

    def test_other_values(self):
        self.assertEqual(json_safe_value(b'abc'), 'abc')
        self.assertEqual(json_safe_value([1, numpy.nan]), [1, None])
        self.assertEqual(json_safe_value(pandas.Period('2024-05')), '2024-05')
        self.assertEqual(json_safe_value(complex(1, 2)), '(1+2j)')


class TablePreviewTest(unittest.TestCase):
    def test_preview_is_capped_and_serializable_without_nan(self):
        frame = pandas.DataFrame({'a': numpy.arange(120), 'b': [numpy.nan, 1.5] * 60})
        preview = table_preview(frame, 50)
        self.assertEqual(preview['row_count'], 120)
        self.assertTrue(preview['truncated'])
        self.assertEqual(len(preview['rows']), 50)
        self.assertEqual(preview['rows'][:2], [[0, None], [1, 1.5]])
        json.dumps(preview, allow_nan=False)

    def test_small_frame_is_not_truncated(self):
        preview = table_preview(pandas.DataFrame({'a': [1]}), 50)
        self.assertEqual((preview['row_count'], preview['truncated'], preview['rows']), (1, False, [[1]]))

    def test_meaningful_index_becomes_columns(self):
        frame = pandas.DataFrame({'region': ['n', 's', 'n'], 'year': [1, 1, 2], 'amount': [1, 2, 3]})
        grouped = frame.groupby(['region', 'year']).sum()
        preview = table_preview(grouped, 50)
        self.assertEqual(preview['columns'], ['region', 'year', 'amount'])
        self.assertEqual(preview['rows'][0], ['n', 1, 1])

    def test_multiindex_columns_are_joined(self):
        frame = pandas.DataFrame({'amount': [1, 2], 'region': ['n', 's']}).groupby('region').agg(['sum', 'mean'])
        self.assertEqual(table_preview(frame, 50)['columns'], ['region', 'amount / sum', 'amount / mean'])

    def test_series(self):
        preview = table_preview(pandas.Series([1.0, None]), 50)
        self.assertEqual(preview['columns'], ['0'])
        self.assertEqual(preview['rows'], [[1.0], [None]])

    def test_empty_frame(self):
        preview = table_preview(pandas.DataFrame({'a': []}), 50)
        self.assertEqual((preview['columns'], preview['rows'], preview['row_count']), (['a'], [], 0))


class MimeBundleTest(unittest.TestCase):
    def test_plain_values_have_only_text(self):
        self.assertEqual(mime_bundle({'a': 1}), {'text/plain': "{'a': 1}"})

    def test_dataframe_has_html_and_table(self):
        bundle = mime_bundle(pandas.DataFrame({'a': range(100)}), preview_rows=5)
        self.assertEqual(set(bundle), {'text/plain', 'text/html', table_mime_type})
        self.assertEqual(len(bundle[table_mime_type]['rows']), 5)
        self.assertEqual(bundle['text/html'].count('<tr>'), 5)  # the header row has a style attribute

    def test_rich_representations(self):
        class Rich:
            def _repr_html_(self):
                return '<b>rich</b>'

            def _repr_png_(self):
                return b'\x89PNG fake'

            def _repr_svg_(self):
                return None  # declines

            def __repr__(self):
                return 'Rich()'

        bundle = mime_bundle(Rich())
        self.assertEqual(bundle['text/html'], '<b>rich</b>')
        self.assertEqual(base64.b64decode(bundle['image/png']), b'\x89PNG fake')
        self.assertNotIn('image/svg+xml', bundle)
        self.assertEqual(bundle['text/plain'], 'Rich()')

    def test_failing_rich_method_leaves_the_text(self):
        class Broken:
            def _repr_html_(self):
                raise RuntimeError('no html today')

            def __repr__(self):
                return 'Broken()'

        self.assertEqual(mime_bundle(Broken()), {'text/plain': 'Broken()'})

    def test_classes_are_not_asked_for_rich_output(self):
        self.assertEqual(set(mime_bundle(pandas.DataFrame)), {'text/plain'})

    def test_figure(self):
        figure = Figure()
        figure.subplots().plot([1, 2])
        bundle = mime_bundle(figure, svg=True)
        self.assertTrue(base64.b64decode(bundle['image/png']).startswith(b'\x89PNG'))
        self.assertIn('<svg', bundle['image/svg+xml'])
        self.assertEqual(bundle['text/plain'], '<Figure size 640x480 with 1 Axes>')


if __name__ == '__main__':
    unittest.main()
