"""Honest models fitted on a case study's training DataFrame, as a candidate makes them."""

from __future__ import annotations

from pathlib import Path

from grading.datasets.spec import BuiltDataset


def dataframe_pipeline_skops(built: BuiltDataset, dest: Path):
    """``Pipeline(ColumnTransformer(StandardScaler, OneHotEncoder), LogisticRegression)``
    fitted on ``built``'s training DataFrame (selecting columns by name) and saved with skops
    at ``dest``; returns the fitted pipeline."""
    import skops.io as sio
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    spec = built.spec
    numeric = [name for name, dtype in spec.contract_columns if dtype != "string"]
    strings = [name for name, dtype in spec.contract_columns if dtype == "string"]
    pipeline = Pipeline([
        ("prep", ColumnTransformer([
            ("num", StandardScaler(), numeric),
            ("cat", OneHotEncoder(handle_unknown="ignore"), strings),
        ])),
        ("model", LogisticRegression(max_iter=500)),
    ])
    pipeline.fit(built.train[list(spec.feature_names)], built.train[spec.label_column])
    sio.dump(pipeline, dest)
    return pipeline
