"""Writes for the model grading app, by concept: ``datasets``, ``submissions``,
``leaderboards`` and ``workers``. Views, tasks, the admin and management commands call these;
none re-implements one."""
