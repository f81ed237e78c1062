"""Cells in a real kernel: state, results, streams, errors."""

import time
import unittest

from kernel_process import KernelTestCase, of_type, reply_of, stream_text


class CellTest(KernelTestCase):
    def test_ready_message_describes_the_kernel(self):
        ready = self.kernel.ready
        self.assertEqual(ready['msg_type'], 'ready')
        self.assertIsNone(ready['id'])
        self.assertEqual(ready['content']['protocol'], 1)
        self.assertEqual(ready['content']['pid'], self.kernel.process.pid)
        self.assertRegex(ready['content']['python'], r'^3\.\d+\.\d+$')
        self.assertIsInstance(ready['content']['confinement'], list)

    def test_state_persists_across_cells(self):
        self.assertEqual(reply_of(self.kernel.execute('counter = 41\ndef bump(n):\n    return n + 1'))['status'], 'ok')
        messages = self.kernel.execute('bump(counter)')
        self.assertEqual(of_type(messages, 'execute_result')[0]['content']['data']['text/plain'], '42')

    def test_last_expression_is_the_result_and_counts_increase(self):
        first = self.kernel.execute('x = 2\nx * 21')
        second = self.kernel.execute('x')
        result = of_type(first, 'execute_result')[0]['content']
        self.assertEqual(result['data'], {'text/plain': '42'})
        self.assertEqual(result['execution_count'], reply_of(first)['execution_count'])
        self.assertEqual(reply_of(second)['execution_count'], reply_of(first)['execution_count'] + 1)

    def test_semicolon_and_none_suppress_the_result(self):
        self.assertEqual(of_type(self.kernel.execute('1 + 1;'), 'execute_result'), [])
        self.assertEqual(of_type(self.kernel.execute('1 + 1;  # quiet'), 'execute_result'), [])
        self.assertEqual(of_type(self.kernel.execute('None'), 'execute_result'), [])
        self.assertEqual(of_type(self.kernel.execute('print("x")'), 'execute_result'), [])
        # A semicolon inside a string is not the quiet mark.
        self.assertEqual(len(of_type(self.kernel.execute('"a;"'), 'execute_result')), 1)

    def test_flushed_print_arrives_while_the_cell_still_runs(self):
        messages = self.kernel.execute('import time\nprint("early", flush=True)\ntime.sleep(2)\nprint("late")')
        streams = of_type(messages, 'stream')
        self.assertEqual(streams[0]['content'], {'name': 'stdout', 'text': 'early\n'})
        self.assertLess(streams[0]['received_at'], messages[-1]['received_at'] - 1.5)
        self.assertEqual(stream_text(messages), 'early\nlate\n')

    def test_unflushed_line_arrives_soon_too(self):
        started = time.monotonic()
        request_id = self.kernel.send('execute', code='import time\nprint("soon")\ntime.sleep(1.5)')
        first = self.kernel.next_message()
        self.assertEqual(first['msg_type'], 'stream')
        self.assertLess(first['received_at'] - started, 1.0)
        self.kernel.collect(request_id)

    def test_output_keeps_its_order_around_results(self):
        messages = self.kernel.execute('print("before")\ndisplay(7)\nprint("after")\n8')
        kinds = [(message['msg_type'], message['content'].get('text')) for message in messages]
        self.assertEqual(
            kinds,
            [('stream', 'before\n'), ('display_data', None), ('stream', 'after\n'), ('execute_result', None), ('reply', None)],
        )

    def test_stderr_is_its_own_stream(self):
        messages = self.kernel.execute('import sys\nprint("problem", file=sys.stderr)\nprint("fine")')
        self.assertEqual(stream_text(messages, 'stderr'), 'problem\n')
        self.assertEqual(stream_text(messages, 'stdout'), 'fine\n')

    def test_c_level_write_to_fd_1_does_not_touch_the_replies(self):
        messages = self.kernel.execute('import os\nos.write(1, b"raw bytes {not json\\n")\nos.write(2, b"x")\n"still fine"')
        self.assertEqual(of_type(messages, 'corrupt-line'), [])
        self.assertEqual(of_type(messages, 'execute_result')[0]['content']['data']['text/plain'], "'still fine'")
        deadline = time.monotonic() + 5
        while b'raw bytes' not in self.kernel.raw_output['stdout'] and time.monotonic() < deadline:
            time.sleep(0.01)
        self.assertIn(b'raw bytes {not json', self.kernel.raw_output['stdout'])

    def test_error_shows_the_cell_line_without_kernel_frames(self):
        messages = self.kernel.execute('a = 1\ndef broken():\n    return {}["missing"]\nbroken()')
        error = of_type(messages, 'error')[0]['content']
        self.assertEqual(error['ename'], 'KeyError')
        self.assertEqual(error['evalue'], "'missing'")
        text = '\n'.join(error['traceback'])
        self.assertRegex(text, r'File "<cell \d+>", line 4, in <module>')
        self.assertRegex(text, r'File "<cell \d+>", line 3, in broken')
        self.assertIn('return {}["missing"]', text)
        self.assertNotIn('iquery_kernel', text)
        self.assertEqual(reply_of(messages)['status'], 'error')

    def test_syntax_error_is_an_error_output(self):
        messages = self.kernel.execute('x = (1,\nprint(x')
        error = of_type(messages, 'error')[0]['content']
        self.assertEqual(error['ename'], 'SyntaxError')
        self.assertRegex('\n'.join(error['traceback']), r'File "<cell \d+>", line \d')
        self.assertNotIn('ast.py', '\n'.join(error['traceback']))
        self.assertEqual(reply_of(messages)['status'], 'error')
        self.assertIn('execution_count', reply_of(messages))

    def test_sys_exit_does_not_end_the_kernel(self):
        messages = self.kernel.execute('import sys\nsys.exit(3)')
        self.assertEqual(of_type(messages, 'error')[0]['content']['ename'], 'SystemExit')
        self.assertEqual(reply_of(self.kernel.execute('1'))['status'], 'ok')

    def test_input_fails_clearly_instead_of_reading_requests(self):
        messages = self.kernel.execute('input("name? ")')
        self.assertEqual(of_type(messages, 'error')[0]['content']['ename'], 'EOFError')
        self.assertEqual(reply_of(self.kernel.execute('1'))['status'], 'ok')

    def test_cells_run_in_the_workspace_as_main(self):
        messages = self.kernel.execute('import os\n(__name__, os.getcwd())')
        result = of_type(messages, 'execute_result')[0]['content']['data']['text/plain']
        self.assertEqual(result, repr(('__main__', self.kernel.workspace)))

    def test_classes_defined_in_cells_can_be_pickled(self):
        code = 'import pickle\nclass Point:\n    x = 3\npickle.loads(pickle.dumps(Point())).x'
        self.assertEqual(of_type(self.kernel.execute(code), 'execute_result')[0]['content']['data']['text/plain'], '3')

    def test_forked_workers_print_without_touching_the_replies(self):
        code = (
            'import multiprocessing\n'
            'def double(n):\n'
            '    print("worker", n, "x" * 5000, flush=True)\n'
            '    return n * 2\n'
            'with multiprocessing.get_context("fork").Pool(2) as pool:\n'
            '    doubled = pool.map(double, range(6))\n'
            'doubled'
        )
        messages = self.kernel.execute(code)
        self.assertEqual(of_type(messages, 'corrupt-line'), [])
        self.assertEqual(of_type(messages, 'execute_result')[0]['content']['data']['text/plain'], '[0, 2, 4, 6, 8, 10]')
        self.assertNotIn('worker', stream_text(messages))  # the workers' output goes to fd 1, for the host
        self.assertEqual(reply_of(self.kernel.execute('1'))['status'], 'ok')

    def test_display_sends_each_value(self):
        messages = self.kernel.execute('display("a", 2)')
        self.assertEqual([m['content']['data']['text/plain'] for m in of_type(messages, 'display_data')], ["'a'", '2'])


if __name__ == '__main__':
    unittest.main()
