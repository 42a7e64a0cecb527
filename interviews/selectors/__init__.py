"""Reads for the interviews app, by concept: ``catalogue`` and ``sessions``. Scorecards have
their own, in ``interviews.scorecards.selectors``."""
