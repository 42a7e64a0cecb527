"""The scoring engine, pure Python with no Django: artifact sniffing (``artifacts``), ONNX
graph checks (``onnx_checks``), the skops allow-list (``skops_checks``, read from the file
before loading) and the checks of a loaded skops model (``skops_model``), the input/output
contract (``contract``), the package that
runs a model in a sandbox (``sandbox``: ``limits``, ``isolation``, ``failures``, ``runner``,
and ``child``, the code of the child process), the metrics package (``metrics``: ``base``,
``binary``, ``regression``, ``ranking``, ``estimates``, ``registry``, ``intervals``), one
scoring job end to end (``scoring``), and the typed failures (``errors``).

Usable from a worker, the command line or the downloadable validator; nothing here may
import Django or the rest of the project (an import contract in ``make test`` checks it).
"""
