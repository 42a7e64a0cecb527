"""Baseline models for the case-study datasets (pure Python, no Django).

Every baseline is a scikit-learn ``Pipeline`` of a ``ContractFeaturizer`` and one standard
estimator, fitted from a recipe that lives beside the case's generator in
``grading.datasets`` (``baseline_recipes(slug)``), and exported to ONNX like an upload.

* ``featurizer.py``: ``ContractFeaturizer``, the feature engineering (one-hot, target
  encodings, rates, haversine, cyclic hour) as a scikit-learn transformer.
* ``onnx_export.py``: its skl2onnx converter, ``export_onnx``, the ONNX input layouts
  (``onnx_initial_types``, ``onnx_feeds``) and the skl2onnx compatibility patch.
* ``training.py``: ``BaselineModel``, ``fit_recipe``, ``train_baselines``, ``evaluate``,
  ``design_choice_gain``; metrics from ``grading.engine.metrics``.

Import from the module that holds the concept; this package re-exports nothing.
"""
