"""Running one cell in the persistent namespace, IPython style.

The cell is parsed first; when its last statement is an expression (and the line does not end
with ``;``), that expression is evaluated separately and its value sent as ``execute_result``.
Open figures are shown after every cell, also one that failed. Errors and interrupts are outputs
of the cell, never failures of the kernel.
"""

import ast
import io
import linecache
import tokenize

from iquery_kernel.tracebacks import error_content


class CellRunner:
    """Runs cells in ``namespace`` (a dict kept across cells) and reports their outputs."""

    def __init__(self, namespace, interrupter):
        self._namespace = namespace
        self._interrupter = interrupter

    def run(self, code, execution_count, publisher):
        """Runs ``code`` as cell ``execution_count``; returns the status 'ok', 'error' or 'aborted'."""
        filename = f'<cell {execution_count}>'
        _remember_source(filename, code)
        try:
            statements, last_expression = _parse_cell(code, filename)
        except (SyntaxError, ValueError) as error:  # ValueError: source with a null byte
            error.__traceback__ = None  # the frames are the parser's; the message points into the cell
            publisher.error(error_content(error))
            return 'error'

        def execute():
            exec(compile(statements, filename, 'exec', dont_inherit=True), self._namespace)
            if last_expression is not None:
                value = eval(compile(last_expression, filename, 'eval', dont_inherit=True), self._namespace)
                if value is not None:
                    publisher.execute_result(value, execution_count)

        status = self._run_interruptibly(execute, publisher)
        figures_status = self._run_interruptibly(publisher.show_open_figures, publisher)
        return status if status != 'ok' else figures_status

    def _run_interruptibly(self, action, publisher):
        try:
            with self._interrupter.cell_running():
                action()
        except KeyboardInterrupt as error:
            publisher.error(error_content(error))
            return 'aborted'
        except BaseException as error:  # SystemExit too (sys.exit() in a cell): the kernel keeps going
            publisher.error(error_content(error))
            return 'error'
        return 'ok'


def _parse_cell(code, filename):
    """Splits the cell into its statements and, when it should be shown, its last expression."""
    module = ast.parse(code, filename=filename)
    last_expression = None
    if module.body and isinstance(module.body[-1], ast.Expr) and not _ends_with_semicolon(code):
        last_expression = ast.Expression(module.body.pop().value)
    return module, last_expression


def _ends_with_semicolon(code):
    """True when the last token that is not a comment or line end is ``;`` (IPython's quiet mark)."""
    last = None
    ignored = {tokenize.NEWLINE, tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER}
    try:
        for token in tokenize.generate_tokens(io.StringIO(code).readline):
            if token.type not in ignored:
                last = token
    except (tokenize.TokenError, SyntaxError):
        return False
    return last is not None and last.type == tokenize.OP and last.string == ';'


def _remember_source(filename, code):
    """Lets tracebacks and ``inspect.getsource`` show the cell's lines.

    A cache entry without a modification time is one linecache never evicts.
    """
    linecache.cache[filename] = (len(code), None, code.splitlines(keepends=True), filename)
