"""Requests other than plain cells, bad requests, and the kernel's life cycle."""

import json
import os
import unittest

import kernel_process
from kernel_process import KernelProcess, KernelTestCase, of_type, reply_of

frames_installed = os.path.exists(os.path.join(kernel_process.python_directory, 'iquery_kernel', 'frames.py'))


class TableResultTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.kernel = KernelProcess(preview_rows=10)

    @classmethod
    def tearDownClass(cls):
        cls.kernel.close()

    def test_dataframe_result_has_a_capped_json_safe_table(self):
        code = (
            'import decimal\n'
            'frame = pd.DataFrame({\n'
            '    "城市": ["北京", None] * 30,\n'
            '    "amount": [1.5, np.nan] * 30,\n'
            '    "count": np.arange(60, dtype="int64"),\n'
            '    "day": [pd.Timestamp("2024-03-01 08:30"), pd.NaT] * 30,\n'
            '    "price": [decimal.Decimal("2.50")] * 60,\n'
            '})\n'
            'frame'
        )
        messages = self.kernel.execute(code)
        data = of_type(messages, 'execute_result')[0]['content']['data']
        table = data['application/vnd.iquery.table+json']
        self.assertEqual(table['columns'], ['城市', 'amount', 'count', 'day', 'price'])
        self.assertEqual(table['dtypes'], ['object', 'float64', 'int64', 'datetime64[ns]', 'object'])
        self.assertEqual(table['row_count'], 60)
        self.assertTrue(table['truncated'])
        self.assertEqual(len(table['rows']), 10)
        self.assertEqual(table['rows'][0], ['北京', 1.5, 0, '2024-03-01T08:30:00', 2.5])
        self.assertEqual(table['rows'][1], [None, None, 1, None, 2.5])
        self.assertIn('<table', data['text/html'])
        self.assertEqual(data['text/html'].count('<tr>'), 10)  # the header row has a style attribute
        self.assertIn('城市', data['text/plain'])

    def test_series_and_grouped_index_become_columns(self):
        messages = self.kernel.execute('pd.Series([3, 4], index=pd.Index(["x", "y"], name="key"), name="total")')
        table = of_type(messages, 'execute_result')[0]['content']['data']['application/vnd.iquery.table+json']
        self.assertEqual(table['columns'], ['key', 'total'])
        self.assertEqual(table['rows'], [['x', 3], ['y', 4]])
        self.assertFalse(table['truncated'])


class RequestTest(KernelTestCase):
    def assert_error_reply(self, messages, ename):
        self.assertEqual([message['msg_type'] for message in messages], ['error', 'reply'])
        self.assertEqual(messages[0]['content']['ename'], ename)
        self.assertEqual(reply_of(messages)['status'], 'error')

    def test_review_finds_without_running(self):
        code = 'import subprocess as sp\nsp.run(["rm", "-rf", "/"])\nopen("/etc/passwd")\nimport socket'
        messages = self.kernel.request('review', code=code)
        self.assertEqual(len(messages), 1)
        findings = reply_of(messages)['findings']
        self.assertEqual(
            [(finding['kind'], finding['line']) for finding in findings],
            [('subprocess', 1), ('subprocess', 2), ('open-outside-workspace', 3), ('socket', 4)],
        )
        self.assertEqual(findings[0]['severity'], 'danger')
        # Never executed: sp is not defined in the namespace.
        self.assertEqual(of_type(self.kernel.execute('sp'), 'error')[0]['content']['ename'], 'NameError')

    def test_review_allows_the_workspace(self):
        code = f'open({os.path.join(self.kernel.workspace, "data.csv")!r})\nopen("/tmp/x")\nopen("rel.csv")'
        self.assertEqual(reply_of(self.kernel.request('review', code=code))['findings'], [])

    def test_memory_reports_the_resident_size(self):
        content = reply_of(self.kernel.request('memory'))
        self.assertEqual(content['status'], 'ok')
        self.assertGreater(content['rss_bytes'], 20 * 1024 * 1024)  # numpy, pandas and matplotlib are loaded
        self.assertLess(content['rss_bytes'], 4 * 1024**3)

    def test_malformed_json_gets_an_error_reply_and_the_kernel_goes_on(self):
        self.kernel.send_line(b'{"id": "broken", "type": \n')
        messages = self.kernel.collect(None)
        self.assert_error_reply(messages, 'ProtocolError')
        self.kernel.send_line(b'[1, 2]\n')
        self.assert_error_reply(self.kernel.collect(None), 'ProtocolError')
        self.assertEqual(reply_of(self.kernel.execute('1'))['status'], 'ok')

    def test_unknown_type_and_missing_fields_are_errors(self):
        self.assert_error_reply(self.kernel.request('compile_everything'), 'ProtocolError')
        self.assert_error_reply(self.kernel.request('execute'), 'ProtocolError')
        self.assert_error_reply(self.kernel.request('load_frame', name='not a name', manifest='/x'), 'ProtocolError')
        self.assertEqual(reply_of(self.kernel.execute('2'))['status'], 'ok')

    def test_save_frame_refuses_unknown_names_and_other_types(self):
        self.assert_error_reply(self.kernel.request('save_frame', name='nowhere', directory=self.kernel.workspace), 'NameError')
        self.kernel.execute('not_a_frame = [1, 2]')
        self.assert_error_reply(
            self.kernel.request('save_frame', name='not_a_frame', directory=self.kernel.workspace), 'TypeError'
        )

    @unittest.skipIf(frames_installed, 'frames.py is installed; the round trip test covers frames')
    def test_frames_requests_say_the_module_is_missing(self):
        self.kernel.execute('frame_to_save = pd.DataFrame({"a": [1]})')
        messages = self.kernel.request('save_frame', name='frame_to_save', directory=self.kernel.workspace)
        self.assert_error_reply(messages, 'FramesUnavailable')
        self.assertIn('frames.py', messages[0]['content']['evalue'])

    @unittest.skipUnless(frames_installed, 'frames.py (the data hand-off module) is not written yet')
    def test_frames_round_trip(self):
        self.kernel.execute('frame_to_save = pd.DataFrame({"a": [1, 2, 3], "b": ["x", "y", None]})')
        directory = os.path.join(self.kernel.workspace, 'saved')
        saved = reply_of(self.kernel.request('save_frame', name='frame_to_save', directory=directory))
        self.assertEqual((saved['status'], saved['rows']), ('ok', 3))
        loaded = reply_of(self.kernel.request('load_frame', name='loaded', manifest=saved['manifest']))
        self.assertEqual((loaded['status'], loaded['rows']), ('ok', 3))
        # Values, not dtypes: frames.py decides how strings come back (as categories, for one).
        messages = self.kernel.execute('(loaded["a"].tolist(), [None if pd.isna(v) else v for v in loaded["b"]])')
        self.assertEqual(of_type(messages, 'execute_result')[0]['content']['data']['text/plain'], "([1, 2, 3], ['x', 'y', None])")

    @unittest.skipUnless(frames_installed, 'frames.py (the data hand-off module) is not written yet')
    def test_load_frame_failure_is_an_error_reply(self):
        missing = os.path.join(self.kernel.workspace, 'no-such-frame', 'manifest.json')
        messages = self.kernel.request('load_frame', name='never', manifest=missing)
        self.assertEqual([message['msg_type'] for message in messages], ['error', 'reply'])
        self.assertEqual(reply_of(messages)['status'], 'error')
        self.assertEqual(of_type(self.kernel.execute('never'), 'error')[0]['content']['ename'], 'NameError')


class LifeCycleTest(unittest.TestCase):
    def test_shutdown_replies_and_exits_zero(self):
        kernel = KernelProcess()
        try:
            kernel.execute('import threading, time\nthreading.Thread(target=time.sleep, args=(60,)).start()')
            self.assertEqual(reply_of(kernel.request('shutdown')), {'status': 'ok'})
            self.assertEqual(kernel.process.wait(timeout=10), 0)  # a cell's thread does not hold it up
        finally:
            kernel.close()

    def test_closed_stdin_ends_the_kernel(self):
        kernel = KernelProcess()
        try:
            kernel.process.stdin.close()
            self.assertEqual(kernel.process.wait(timeout=10), 0)
        finally:
            kernel.close()

    def test_request_lines_are_json(self):
        kernel = KernelProcess()
        try:
            kernel.send_line(json.dumps({'id': 'a', 'type': 'memory'}) + '\n' + json.dumps({'id': 'b', 'type': 'memory'}) + '\n')
            self.assertEqual(reply_of(kernel.collect('a'))['status'], 'ok')
            self.assertEqual(reply_of(kernel.collect('b'))['status'], 'ok')
        finally:
            kernel.close()


if __name__ == '__main__':
    unittest.main()
