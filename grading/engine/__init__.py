"""The scoring engine, pure Python with no Django: artifact sniffing (``artifacts``), ONNX
graph checks (``onnx_checks``), the input/output contract (``contract``), the sandbox that
runs a model (``sandbox``, its child process ``sandbox_child``), the metrics (``metrics``),
one scoring job end to end (``scoring``), and the typed failures (``errors``).

Usable from a worker, the command line or the downloadable validator; nothing here may
import Django or the rest of the project (an import contract in ``make test`` checks it).
"""
