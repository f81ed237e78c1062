"""A look at a cell before it runs: an AST pass that never executes anything.

Findings are hints for the host and the model (``{kind, line, message, severity}``); the sandbox,
not this pass, is the barrier, so the pass aims at what model-written code plausibly does, including
simple aliasing (``import subprocess as sp``, ``from os import system``, ``run = subprocess.run``,
``getattr(os, 'system')``), not at defeating a determined adversary.
"""

import ast
import posixpath

danger_kinds = frozenset({'subprocess', 'os-system', 'socket', 'ctypes'})

_os_process_functions = [
    'system', 'popen', 'fork', 'forkpty', 'posix_spawn', 'posix_spawnp',
    'execl', 'execle', 'execlp', 'execlpe', 'execv', 'execve', 'execvp', 'execvpe',
    'spawnl', 'spawnle', 'spawnlp', 'spawnlpe', 'spawnv', 'spawnve', 'spawnvp', 'spawnvpe',
]  # fmt: skip

_network_modules = [
    'socket', 'socketserver', 'ssl', 'urllib.request', 'urllib3', 'http.client', 'http.server',
    'requests', 'httpx', 'aiohttp', 'ftplib', 'smtplib', 'poplib', 'imaplib', 'telnetlib', 'nntplib',
    'xmlrpc', 'websocket', 'websockets', 'paramiko',
    'asyncio.open_connection', 'asyncio.start_server', 'asyncio.open_unix_connection', 'asyncio.start_unix_server',
]  # fmt: skip

# (qualified name, kind, what it does): a name matches itself and everything under it.
_reference_rules = (
    [(name, 'subprocess', 'starts other programs') for name in ('subprocess', 'pty', 'multiprocessing')]
    + [
        ('concurrent.futures.ProcessPoolExecutor', 'subprocess', 'starts other processes'),
        ('asyncio.create_subprocess_exec', 'subprocess', 'starts other programs'),
        ('asyncio.create_subprocess_shell', 'subprocess', 'runs a shell command'),
    ]
    + [(f'os.{name}', 'os-system', 'runs or forks another program') for name in _os_process_functions]
    + [(name, 'socket', 'opens network connections') for name in _network_modules]
    + [(name, 'ctypes', 'calls native code directly') for name in ('ctypes', '_ctypes', 'cffi')]
    + [(name, 'dynamic-import', 'imports modules by computed names') for name in ('importlib', 'imp', '__import__')]
    + [(name, 'eval-exec', 'runs code built at run time') for name in ('eval', 'exec', 'compile')]
    + [(f'os.{name}', 'file-delete', 'deletes files') for name in ('remove', 'unlink', 'rmdir', 'removedirs')]
    + [('shutil.rmtree', 'file-delete', 'deletes a whole folder')]
    + [
        (f'os.{name}', 'environment', 'reads or changes environment variables')
        for name in ('environ', 'environb', 'getenv', 'getenvb', 'putenv', 'unsetenv')
    ]
)

# Names the kernel binds before any cell runs, so cells use them without importing.
_kernel_aliases = {'pd': 'pandas', 'np': 'numpy', 'plt': 'matplotlib.pyplot'}

_path_functions = frozenset({
    'open', 'io.open', 'os.open', 'codecs.open', 'pathlib.Path', 'pathlib.PurePath', 'pathlib.PosixPath',
    'os.listdir', 'os.scandir', 'os.walk', 'os.stat', 'os.chdir', 'os.mkdir', 'os.makedirs',
    'os.rename', 'os.replace', 'os.remove', 'os.unlink', 'os.rmdir', 'os.symlink', 'os.link', 'os.chmod',
    'glob.glob', 'glob.iglob', 'sqlite3.connect', 'zipfile.ZipFile', 'tarfile.open',
})  # fmt: skip

_path_methods = frozenset({
    'savefig', 'read_text', 'write_text', 'read_bytes', 'write_bytes', 'open', 'load', 'save', 'savez',
    'savez_compressed', 'loadtxt', 'savetxt', 'genfromtxt', 'fromfile', 'tofile', 'ExcelWriter',
    'HDFStore', 'copy', 'copy2', 'copyfile', 'copytree', 'move', 'rmtree',
})  # fmt: skip

_path_keywords = frozenset({
    'file', 'path', 'filename', 'fname', 'filepath_or_buffer', 'path_or_buf', 'path_or_buffer', 'io',
    'excel_writer', 'src', 'dst', 'database',
})  # fmt: skip

_network_schemes = ('http://', 'https://', 'ftp://', 's3://', 'gs://')


def review_code(code, allowed_roots=('/workspace', '/tmp')):
    """Findings for ``code``, sorted by line; one per kind and line.

    ``allowed_roots`` are the folders literal absolute paths may point into. Code that does not
    parse gives a single ``syntax-error`` finding.
    """
    try:
        tree = ast.parse(code)
    except SyntaxError as error:
        return [_finding('syntax-error', error.lineno or 1, f'the code does not parse: {error.msg}')]
    except ValueError as error:  # a null byte in the source
        return [_finding('syntax-error', 1, f'the code does not parse: {error}')]
    reviewer = _Reviewer(_collect_aliases(tree), [root.rstrip('/') or '/' for root in allowed_roots])
    reviewer.visit(tree)
    return sorted(reviewer.findings.values(), key=lambda finding: (finding['line'], finding['kind']))


def _finding(kind, line, message):
    return {'kind': kind, 'line': line, 'message': message, 'severity': 'danger' if kind in danger_kinds else 'warning'}


def _collect_aliases(tree):
    """Local name -> qualified name, from imports and plain assignments anywhere in the code.

    Flow-insensitive on purpose: a name bound once to ``subprocess.run`` is suspicious wherever it is used.
    """
    aliases = dict(_kernel_aliases)
    resolver = _NameResolver(aliases)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for name in node.names:
                if name.asname:
                    aliases[name.asname] = name.name
                else:
                    top = name.name.split('.')[0]
                    aliases[top] = top
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for name in node.names:
                aliases[name.asname or name.name] = f'{node.module}.{name.name}'
    # Assignments last, so that they can refer to imported names; twice, for chains (a = os; b = a.system).
    for _ in range(2):
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                qualified = resolver.qualified_name(node.value)
                if qualified and _rule_for(qualified):
                    aliases[node.targets[0].id] = qualified
    return aliases


class _NameResolver:
    def __init__(self, aliases):
        self.aliases = aliases

    def qualified_name(self, node):
        """``subprocess.run`` for ``sp.run`` after ``import subprocess as sp``; None when unknown."""
        if isinstance(node, ast.Name):
            return _normalized(self.aliases.get(node.id, node.id))
        if isinstance(node, ast.Attribute):
            base = self.qualified_name(node.value)
            return base and _normalized(f'{base}.{node.attr}')
        if isinstance(node, ast.Call) and len(node.args) >= 1:
            function = self.qualified_name(node.func)
            if function == 'getattr' and len(node.args) >= 2 and _string_constant(node.args[1]):
                base = self.qualified_name(node.args[0])
                return base and _normalized(f'{base}.{node.args[1].value}')
            if function in ('importlib.import_module', '__import__') and _string_constant(node.args[0]):
                return _normalized(node.args[0].value)
        return None


def _normalized(name):
    for prefix, replacement in (('builtins.', ''), ('__builtins__.', ''), ('posix.', 'os.')):
        if name.startswith(prefix):
            return replacement + name[len(prefix):]
    return name


def _rule_for(qualified):
    for name, kind, explanation in _reference_rules:
        if qualified == name or qualified.startswith(name + '.'):
            return kind, explanation
    return None


def _string_constant(node):
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


class _Reviewer(ast.NodeVisitor):
    def __init__(self, aliases, allowed_roots):
        self._resolver = _NameResolver(aliases)
        self._allowed_roots = allowed_roots
        self.findings = {}

    def _add(self, kind, node, message):
        self.findings.setdefault((kind, node.lineno), _finding(kind, node.lineno, message))

    def _check_reference(self, qualified, node):
        rule = _rule_for(qualified)
        if rule:
            kind, explanation = rule
            self._add(kind, node, f'{qualified} {explanation}')

    def visit_Import(self, node):
        for name in node.names:
            self._check_reference(name.name, node)

    def visit_ImportFrom(self, node):
        if node.module and not node.level:
            for name in node.names:
                self._check_reference(f'{node.module}.{name.name}', node)

    def visit_Name(self, node):
        if isinstance(node.ctx, ast.Load):
            self._check_reference(self._resolver.qualified_name(node), node)
        self.generic_visit(node)

    def visit_Attribute(self, node):
        qualified = self._resolver.qualified_name(node)
        if qualified:
            self._check_reference(qualified, node)
        self.generic_visit(node)

    def visit_Call(self, node):
        qualified = self._resolver.qualified_name(node.func)
        if qualified:
            self._check_reference(qualified, node)
        method = node.func.attr if isinstance(node.func, ast.Attribute) else None
        if method in ('unlink', 'rmdir') and not (qualified and _rule_for(qualified)):
            self._add('file-delete', node, f'.{method}() deletes a file or folder')
        if _takes_path(qualified, method):
            self._check_paths(node)
        self.generic_visit(node)

    def _check_paths(self, call):
        candidates = list(call.args) + [keyword.value for keyword in call.keywords if keyword.arg in _path_keywords]
        for argument in candidates:
            path, complete = _static_text(argument)
            if path is None:
                continue
            if path.startswith(_network_schemes):
                self._add('socket', call, f'{path!r} is read over the network')
                continue
            problem = self._path_problem(path, complete)
            if problem:
                self._add('open-outside-workspace', call, problem)

    def _path_problem(self, path, complete):
        """Why the literal path points outside the allowed roots, or None when it does not."""
        if path.startswith('file://'):
            path = path[len('file://'):]
        if '..' in path.split('/'):
            return f'{path!r} climbs out of its folder with ".."'
        if path.startswith('~'):
            return f'{path!r} is in a home folder, outside the workspace'
        if not path.startswith('/'):
            return None
        known = path if complete else path[: path.rfind('/') + 1]
        directory = posixpath.normpath(known)
        for root in self._allowed_roots:
            if root == '/' or directory == root or directory.startswith(root + '/'):
                return None
        where = ', '.join(self._allowed_roots)
        return f'{path!r} is outside the workspace ({where})'


def _takes_path(qualified, method):
    if qualified in _path_functions or (qualified and qualified.startswith('shutil.')):
        return True
    return method is not None and (method in _path_methods or method.startswith(('read_', 'to_')))


def _static_text(node):
    """The literal text of a path argument as ``(text, complete)``; ``(None, False)`` when unknown.

    A prefix is enough to judge ``f'/etc/{name}'``, ``'/etc/' + name`` or ``os.path.join('/etc', name)``.
    """
    if _string_constant(node):
        return node.value, True
    if isinstance(node, ast.JoinedStr):
        prefix = ''
        for part in node.values:
            if not _string_constant(part):
                return (prefix or None), False
            prefix += part.value
        return prefix, True
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Div)):
        left, _ = _static_text(node.left)
        return left, False
    if isinstance(node, ast.Call) and node.args:
        function = node.func
        is_path_join = (
            isinstance(function, ast.Attribute)
            and function.attr == 'join'
            and isinstance(function.value, ast.Attribute)
            and function.value.attr == 'path'
        )
        if is_path_join and _string_constant(node.args[0]):
            leading = []
            for argument in node.args:
                if not _string_constant(argument):
                    break
                leading.append(argument.value)
            complete = len(leading) == len(node.args)
            joined = posixpath.join(*leading)
            return (joined if complete else joined + '/'), complete
        if isinstance(function, ast.Name) and function.id in ('Path', 'PurePath', 'PosixPath'):
            return _static_text(node.args[0])[0], False
    return None, False
