"""The notebook example on the API page: install the client, download the data, train and
export (the case-study page's own training example), validate, submit, print the scores,
all from Python. ``grading/tests/test_api_cli_live.py`` runs it against a live server."""

from __future__ import annotations

from grading.datasets import DatasetSpec
from grading.validator.examples import training_example

_TEMPLATE = '''\
# 1. Install the command line once (in a notebook: %pip install ...):
#    pip install "mlsd[validate] @ {wheel_url}"
import os

from grading.validator.cli import Client
from grading.validator.cli import main as mlsd  # the `mlsd` command, callable from Python

os.environ["MLSD_SERVER"] = "{server}"
os.environ["MLSD_TOKEN"] = "{token}"  # from {tokens_url}

# 2. Download the training data: {slug}-train.parquet and its data dictionary.
assert mlsd(["download", "{slug}"]) == 0

# 3. Train and export to ONNX: the case-study page's example.
{training}
# 4. Check the file with the server's own checks, then submit and wait: the upload, the
#    queue position, then the scores as a table. 0 scored, 1 failed, 2 refused.
assert mlsd(["validate", "{slug}", "model.onnx"]) == 0
assert mlsd(["submit", "{slug}", "model.onnx", "--wait", "--note", "from a notebook"]) == 0

# 5. The scores as data (the API's JSON; public and rounded while the round is open).
client = Client(os.environ["MLSD_SERVER"], os.environ["MLSD_TOKEN"])
latest = client.get_json("/submissions", {{"case": "{slug}"}})[0]
scores = client.get_json(f"/submissions/{{latest['uuid']}}")["scores"]
print({{metric["key"]: metric["value"] for metric in scores["metrics"]}})
'''


def notebook_example(spec: DatasetSpec, *, slug: str, server: str, wheel_url: str,
                     tokens_url: str, token: str = "mlsd_...") -> str:  # noqa: S107 - a placeholder
    """Python for a notebook that goes from nothing to a printed score on ``slug``."""
    training = training_example(spec, validator_name="")
    training = training.replace('pd.read_parquet("train.parquet")',
                                f'pd.read_parquet("{slug}-train.parquet")')
    # The page's closing note points at the validator .pyz; here step 4 validates.
    training = training.split("\n# Then, with the validator", 1)[0].rstrip() + "\n"
    return _TEMPLATE.format(wheel_url=wheel_url, server=server, token=token,
                            tokens_url=tokens_url, slug=slug, training=training)
