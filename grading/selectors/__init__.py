"""Reads for the model grading app, by concept: ``datasets`` (and the model contract),
``submissions``, ``leaderboards``, ``standings``, ``evidence`` (a candidate's models beside
an interview) and ``workers``. Selectors never write and never import services."""
