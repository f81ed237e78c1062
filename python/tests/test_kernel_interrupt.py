"""Interrupting cells through the control descriptor."""

import time
import unittest

from kernel_process import KernelTestCase, of_type, reply_of


class InterruptTest(KernelTestCase):
    def run_and_interrupt(self, code):
        """Starts ``code``, interrupts once it has printed 'started', returns (messages, seconds to reply)."""
        request_id = self.kernel.send('execute', code=code)
        first = self.kernel.next_message()
        self.assertEqual(first['content'].get('text'), 'started\n')
        time.sleep(0.2)  # past the print, into the work
        interrupted_at = time.monotonic()
        self.kernel.interrupt()
        messages = self.kernel.collect(request_id, timeout=10)
        return messages, messages[-1]['received_at'] - interrupted_at

    def test_interrupt_stops_a_sleep_and_keeps_the_namespace(self):
        self.kernel.execute('kept = "from before"')
        messages, seconds = self.run_and_interrupt('import time\nprint("started", flush=True)\ntime.sleep(30)\nkept = "overwritten"')
        self.assertLess(seconds, 2)
        error = of_type(messages, 'error')[0]['content']
        self.assertEqual(error['ename'], 'KeyboardInterrupt')
        self.assertRegex('\n'.join(error['traceback']), r'<cell \d+>", line 3')
        self.assertEqual(reply_of(messages)['status'], 'aborted')
        following = self.kernel.execute('kept')
        self.assertEqual(of_type(following, 'execute_result')[0]['content']['data']['text/plain'], "'from before'")

    def test_interrupt_stops_a_busy_loop(self):
        messages, seconds = self.run_and_interrupt('print("started", flush=True)\nn = 0\nwhile True:\n    n += 1')
        self.assertLess(seconds, 2)
        self.assertEqual(reply_of(messages)['status'], 'aborted')
        self.assertEqual(reply_of(self.kernel.execute('n > 0'))['status'], 'ok')

    def test_interrupt_stops_a_loop_of_numpy_calls(self):
        code = 'import numpy as np\nprint("started", flush=True)\nwhile True:\n    np.linalg.svd(np.random.rand(200, 200))'
        messages, seconds = self.run_and_interrupt(code)
        self.assertLess(seconds, 2)
        self.assertEqual(reply_of(messages)['status'], 'aborted')

    def test_interrupt_naming_the_running_request_stops_it(self):
        request_id = self.kernel.send('execute', code='import time\nprint("started", flush=True)\ntime.sleep(30)')
        self.kernel.next_message()
        self.kernel.interrupt(request_id)
        self.assertEqual(reply_of(self.kernel.collect(request_id, timeout=5))['status'], 'aborted')

    def test_interrupt_naming_another_request_is_ignored(self):
        request_id = self.kernel.send('execute', code='import time\nprint("started", flush=True)\ntime.sleep(0.5)\n"finished"')
        self.kernel.next_message()
        self.kernel.interrupt('an-earlier-request')
        messages = self.kernel.collect(request_id)
        self.assertEqual(reply_of(messages)['status'], 'ok')
        self.assertEqual(of_type(messages, 'execute_result')[0]['content']['data']['text/plain'], "'finished'")

    def test_interrupt_while_idle_is_ignored(self):
        self.kernel.interrupt()
        time.sleep(0.2)
        messages = self.kernel.execute('import time\ntime.sleep(0.3)\n"survived"')
        self.assertEqual(reply_of(messages)['status'], 'ok')
        self.assertEqual(of_type(messages, 'execute_result')[0]['content']['data']['text/plain'], "'survived'")


if __name__ == '__main__':
    unittest.main()
