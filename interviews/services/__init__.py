"""Writes for the interviews app, by concept: ``catalogue``, ``sessions`` and ``autosave``.
Scorecards have their own, in ``interviews.scorecards.services``."""
