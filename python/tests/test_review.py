"""review.review_code on its own: every kind, aliasing, and what must not be flagged."""

import unittest

import kernel_process  # noqa: F401  (puts iquery_kernel on sys.path)
from iquery_kernel.review import review_code


def kinds(code, **options):
    return [(finding['kind'], finding['line']) for finding in review_code(code, **options)]


class ReviewKindsTest(unittest.TestCase):
    def test_subprocess(self):
        self.assertEqual(kinds('import subprocess\nsubprocess.run(["ls"])'), [('subprocess', 1), ('subprocess', 2)])
        self.assertEqual(kinds('import pty'), [('subprocess', 1)])
        self.assertEqual(kinds('from multiprocessing import Pool'), [('subprocess', 1)])
        self.assertEqual(kinds('import asyncio\nasyncio.create_subprocess_shell("ls")'), [('subprocess', 2)])

    def test_os_system_family(self):
        code = 'import os\nos.system("ls")\nos.popen("ls")\nos.execv("/bin/sh", [])\nos.spawnl(0, "x")\nos.fork()'
        self.assertEqual(kinds(code), [('os-system', line) for line in range(2, 7)])

    def test_socket_family(self):
        code = (
            'import socket\n'
            'import urllib.request\n'
            'from http import client\n'
            'import requests\n'
            'import ftplib, smtplib\n'
            'import asyncio\n'
            'asyncio.open_connection("h", 1)\n'
            'pd.read_csv("https://example.com/a.csv")'
        )
        self.assertEqual(kinds(code), [('socket', line) for line in (1, 2, 3, 4, 5, 7, 8)])

    def test_urllib_parse_is_not_network(self):
        self.assertEqual(kinds('from urllib.parse import quote\nimport urllib.parse\nquote("a b")'), [])

    def test_ctypes_and_cffi(self):
        self.assertEqual(kinds('import ctypes\nfrom cffi import FFI'), [('ctypes', 1), ('ctypes', 2)])

    def test_dynamic_import(self):
        code = 'import importlib\nimportlib.import_module(name)\n__import__(name)\nimport imp'
        self.assertEqual(kinds(code), [('dynamic-import', line) for line in (1, 2, 3, 4)])

    def test_eval_exec_compile(self):
        self.assertEqual(kinds('eval("1")\nexec("x = 1")\ncompile("1", "f", "eval")'), [('eval-exec', 1), ('eval-exec', 2), ('eval-exec', 3)])
        self.assertEqual(kinds('import re\nre.compile("a+")'), [])

    def test_file_delete(self):
        code = 'import os, shutil\nos.remove("a")\nos.unlink("b")\nshutil.rmtree("c")\nfrom pathlib import Path\nPath("d").unlink()'
        self.assertEqual(kinds(code), [('file-delete', line) for line in (2, 3, 4, 6)])

    def test_environment(self):
        self.assertEqual(kinds('import os\nos.environ["KEY"]\nos.getenv("KEY")'), [('environment', 2), ('environment', 3)])

    def test_syntax_error(self):
        findings = review_code('x = 1\ndef broken(:\n    pass')
        self.assertEqual([(finding['kind'], finding['line'], finding['severity']) for finding in findings], [('syntax-error', 2, 'warning')])

    def test_severity(self):
        severities = {finding['kind']: finding['severity'] for finding in review_code('import socket\neval("1")')}
        self.assertEqual(severities, {'socket': 'danger', 'eval-exec': 'warning'})


class ReviewAliasingTest(unittest.TestCase):
    def test_import_as(self):
        self.assertEqual(kinds('import subprocess as sp\nsp.check_output(["ls"])'), [('subprocess', 1), ('subprocess', 2)])

    def test_from_import(self):
        self.assertEqual(kinds('from os import system as run_it\n\nrun_it("ls")'), [('os-system', 1), ('os-system', 3)])

    def test_assignment(self):
        self.assertEqual(kinds('import os\nshell = os.system\nshell("ls")'), [('os-system', 2), ('os-system', 3)])
        self.assertEqual(kinds('import os\nenvironment = os.environ\nenvironment.get("A")'), [('environment', 2), ('environment', 3)])

    def test_getattr_and_import_module(self):
        self.assertEqual(kinds('import os\ngetattr(os, "system")("ls")'), [('os-system', 2)])
        self.assertIn(('subprocess', 2), kinds('import importlib\nimportlib.import_module("subprocess").run(["ls"])'))
        self.assertIn(('os-system', 1), kinds('__import__("os").popen("ls")'))

    def test_builtins_module(self):
        self.assertEqual(kinds('import builtins\nbuiltins.eval("1")'), [('eval-exec', 2)])


class ReviewPathsTest(unittest.TestCase):
    def test_absolute_paths_outside_the_workspace(self):
        code = (
            'open("/etc/passwd")\n'
            'pd.read_csv("/root/data.csv")\n'
            'frame.to_parquet("/var/out.parquet")\n'
            'from pathlib import Path; Path("/etc/hosts").read_text()\n'
            'np.load("/home/user/a.npy")\n'
            'plt.savefig("/srv/plot.png")\n'
            'open("~/.ssh/id_rsa")\n'
            'open(f"/etc/{name}")\n'
            'open("/etc/" + name)\n'
            'open(os.path.join("/proc", name))\n'
            'pd.read_excel(io="/opt/x.xlsx")'
        )
        self.assertEqual(kinds(code), [('open-outside-workspace', line) for line in range(1, 12)])

    def test_dot_dot_is_flagged_even_when_relative(self):
        self.assertEqual(kinds('open("../secrets.txt")\nopen("/workspace/../etc/passwd")'), [('open-outside-workspace', 1), ('open-outside-workspace', 2)])

    def test_workspace_tmp_and_relative_paths_are_fine(self):
        code = (
            'open("/workspace/data.csv")\n'
            'pd.read_csv("/workspace/sub/dir/a.csv")\n'
            'frame.to_csv("/tmp/out.csv")\n'
            'open("data.csv", "w")\n'
            'open(f"/workspace/{name}.csv")\n'
            'text.split("/")\n'
            'pd.to_datetime("2024/01/02")\n'
            'frame.to_dict("records")'
        )
        self.assertEqual(kinds(code), [])

    def test_allowed_roots_are_configurable(self):
        self.assertEqual(kinds('open("/data/a.csv")', allowed_roots=('/data',)), [])
        self.assertEqual(kinds('open("/workspace/a.csv")', allowed_roots=('/data',)), [('open-outside-workspace', 1)])
        self.assertEqual(kinds('open("/workspace2/a.csv")'), [('open-outside-workspace', 1)])

    def test_message_names_the_path(self):
        (finding,) = review_code('open("/etc/passwd")')
        self.assertIn('/etc/passwd', finding['message'])
        self.assertEqual(finding['severity'], 'warning')


class ReviewCleanCodeTest(unittest.TestCase):
    def test_ordinary_analysis_code_has_no_findings(self):
        code = (
            'import pandas as pd\n'
            'import numpy as np\n'
            'import matplotlib.pyplot as plt\n'
            'import seaborn as sns\n'
            'from scipy import stats\n'
            'frame = pd.read_csv("sales.csv")\n'
            'summary = frame.groupby("region")["amount"].agg(["sum", "mean"])\n'
            'summary.to_csv("/workspace/summary.csv")\n'
            'fig, ax = plt.subplots()\n'
            'sns.barplot(data=frame, x="region", y="amount", ax=ax)\n'
            'fig.savefig("chart.png")\n'
            'print(stats.ttest_ind(frame.a, frame.b))\n'
        )
        self.assertEqual(review_code(code), [])

    def test_never_executes(self):
        self.assertEqual(kinds('raise SystemExit(1)\nwhile True: pass'), [])


if __name__ == '__main__':
    unittest.main()
