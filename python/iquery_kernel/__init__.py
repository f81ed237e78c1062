"""The Python kernel of iquery: runs model-written cells inside the sandbox.

The host starts it as ``python -m iquery_kernel`` and talks to it with the protocol of
``src/sandbox/protocol.ts``. This package file stays empty on purpose: importing a submodule
(``review``, ``build_font_cache``) must not pay for pandas or matplotlib.
"""

protocol_version = 1
