"""Scorecards: an interviewer's assessment of a submitted interview session against the
rubric.

``models`` (Grade, StepScore, EvidenceQuote; tables of the ``interviews`` app), ``verdict``
and ``agreement`` (pure rules), ``services`` (claims, drafts, submission, evidence,
release), ``selectors/`` (access, queue, workspace, replay, feedback, calibration),
``views`` and ``urls`` (under ``/scorecards/``), ``forms``.
"""
