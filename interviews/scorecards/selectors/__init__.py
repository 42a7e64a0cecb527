"""Reads for scorecards: the queue, the scorecard page, replay, the candidate's
feedback and skill profile, calibration between interviewers, and the released verdicts the
combined standings use.

Visibility rules live here, not only in templates:

* ``session_get_for_scorecard``: interviewers and admins, submitted sessions only; Http404
  for anyone else (a candidate never learns whether a session id exists).
* ``policy.others_visible``: a grader sees the other graders' scores only once they have
  submitted their own; an interviewer who does not grade the session sees them once every
  required grade is in (nobody is left to anchor); admins who do not grade it see them.
  When not visible, the selectors return no score at all (not just a hidden one).
* ``feedback_for_candidate``: None until the feedback is released.
"""
