"""Matplotlib figures from a real kernel: PNG, SVG, Chinese text, the font cache."""

import base64
import glob
import os
import unittest

from kernel_process import KernelTestCase, of_type, reply_of, stream_text

png_signature = b'\x89PNG\r\n\x1a\n'


class FigureTest(KernelTestCase):
    def test_open_figure_is_sent_as_png_after_the_cell(self):
        messages = self.kernel.execute('import matplotlib.pyplot as plt\nplt.plot([1, 3, 2])\nprint("drawn")')
        figures = of_type(messages, 'display_data')
        self.assertEqual(len(figures), 1)
        data = figures[0]['content']['data']
        self.assertTrue(base64.b64decode(data['image/png']).startswith(png_signature))
        self.assertEqual(data['text/plain'], '<Figure size 640x480 with 1 Axes>')
        self.assertNotIn('image/svg+xml', data)
        self.assertEqual(messages[0]['msg_type'], 'stream')  # output before the figure
        # Closed once shown: the next cell shows nothing.
        self.assertEqual(of_type(self.kernel.execute('1;'), 'display_data'), [])

    def test_svg_when_asked(self):
        messages = self.kernel.execute('import matplotlib.pyplot as plt\nplt.bar(["a", "b"], [1, 2])', svg=True)
        data = of_type(messages, 'display_data')[0]['content']['data']
        self.assertIn('<svg', data['image/svg+xml'])
        self.assertTrue(base64.b64decode(data['image/png']).startswith(png_signature))

    def test_show_sends_figures_at_once(self):
        code = 'import matplotlib.pyplot as plt\nplt.plot([1])\nplt.show()\nprint("between")\nplt.figure()\nplt.plot([2]);'
        messages = self.kernel.execute(code)
        self.assertEqual(
            [message['msg_type'] for message in messages], ['display_data', 'stream', 'display_data', 'reply']
        )

    def test_figure_as_last_expression_is_shown_once(self):
        messages = self.kernel.execute('fig, axes = plt.subplots(1, 2)\nfig')
        self.assertEqual(len(of_type(messages, 'execute_result')), 1)
        self.assertEqual(of_type(messages, 'display_data'), [])
        data = of_type(messages, 'execute_result')[0]['content']['data']
        self.assertEqual(data['text/plain'], '<Figure size 640x480 with 2 Axes>')

    def test_chinese_text_renders_without_missing_glyphs(self):
        code = (
            'import warnings, logging\n'
            'warnings.simplefilter("always")\n'
            'fig, ax = plt.subplots()\n'
            'ax.plot([-1, 2, -3])\n'
            'ax.set_title("各省销售额（万元）")\n'
            'ax.set_xlabel("月份")\n'
            'from matplotlib.font_manager import findfont, FontProperties\n'
            'print(findfont(FontProperties(family=["sans-serif"])))'
        )
        messages = self.kernel.execute(code)
        self.assertEqual(reply_of(messages)['status'], 'ok')
        self.assertEqual(len(of_type(messages, 'display_data')), 1)
        self.assertIn('CJK', stream_text(messages, 'stdout'))
        stderr = stream_text(messages, 'stderr') + self.kernel.raw_output['stderr'].decode('utf-8', 'replace')
        self.assertNotIn('missing from', stderr)
        self.assertNotIn('findfont', stderr)

    def test_missing_glyph_warnings_would_be_seen(self):
        """The control of the test above: without a CJK font the warning reaches the stderr stream."""
        code = (
            'import warnings, matplotlib\n'
            'warnings.simplefilter("always")\n'
            'with matplotlib.rc_context({"font.sans-serif": ["DejaVu Sans"]}):\n'
            '    fig, ax = plt.subplots()\n'
            '    ax.set_title("销售额")\n'
            '    fig.canvas.draw()\n'
            'plt.close(fig)'
        )
        messages = self.kernel.execute(code)
        self.assertIn('missing from', stream_text(messages, 'stderr'))

    def test_prebuilt_font_cache_was_copied_into_the_config_folder(self):
        self.assertTrue(glob.glob(os.path.join(self.kernel.config_directory, 'fontlist-*.json')))


if __name__ == '__main__':
    unittest.main()
