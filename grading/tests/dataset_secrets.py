"""The dataset secret of the plain-pytest tests (no Django settings there).

Committed, so it protects nothing: tests build with it on purpose, and the golden
fingerprints of ``test_datasets.py`` are those of this secret. A deployment never uses it.
"""

from grading.datasets import DatasetSecret

TEST_SECRET = DatasetSecret.from_text("plain-test-dataset-secret-committed-on-purpose-0123456789")
