"""Replay: every save of every step on a timeline, and each answer as it stood at a
moment."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db.models import OuterRef, Subquery

from interviews.live.models import LiveEvent
from interviews.live.selectors import live_events_for_replay
from interviews.models import (
    Answer,
    AnswerRevision,
    InterviewSession,
    QuestionAsked,
)
from mlsd_site import charts


@dataclass
class ReplayStep:
    number: int
    title: str
    text: str
    diagram: str
    version: int  # 0: nothing saved yet at that time
    saved_ms: int | None
    final_version: int


@dataclass
class ReplayFrame:
    at_ms: int
    steps: list[ReplayStep]
    questions: list[QuestionAsked]
    live_events: list[LiveEvent] = field(default_factory=list)  # a live interview's, so far


REPLAY_WIDTH = 900
REPLAY_LABEL_WIDTH = 170


@dataclass
class ReplayTimeline:
    """The saves of each step and the clarifying questions on a time axis (milliseconds
    since the start), drawn as an SVG whose cursor (``id="replay-cursor"``) the replay
    slider's script moves: at ``plot_x + plot_width * ms / end_ms`` in the SVG's units."""

    end_ms: int
    duration_ms: int
    rows: list[dict]  # per step: number, title, saves_ms, count
    questions: list[QuestionAsked]
    saves_ms: list[int]  # every save of every step, in order: "Play" jumps between them
    svg: str  # the template marks it safe
    plot_x: int
    plot_width: int
    live_events: list[LiveEvent] = field(default_factory=list)  # a live interview's moments


def session_replay_timeline(*, session: InterviewSession) -> ReplayTimeline:
    """Three queries: the rubric's titles, every save, the questions asked."""
    titles = {step.number: step.title for step in session.rubric.steps.all()}
    saves: dict[int, list[int]] = defaultdict(list)
    for step_number, elapsed in (AnswerRevision.objects.filter(answer__session=session)
                                 .values_list("answer__step_number", "elapsed_ms")):
        saves[step_number].append(elapsed)
    asked = list(QuestionAsked.objects.filter(session=session))
    live = live_events_for_replay(session=session)
    # The interviewer's moves on a row of their own (the questions are the "?" markers).
    live_moves = [event.elapsed_ms for event in live
                  if event.kind not in (LiveEvent.Kind.QUESTION, LiveEvent.Kind.STARTED)]
    end_ms = max(session.used_seconds * 1000,
                 max((ms for values in saves.values() for ms in values), default=0),
                 max((q.elapsed_ms for q in asked), default=0), 1000)
    rows = [{"number": n, "title": titles.get(n, f"Step {n}"), "saves_ms": sorted(saves[n]),
             "count": len(saves[n])}
            for n in range(1, 7)]
    chart_rows = [(f"{row['number']}. {row['title']}", row["saves_ms"]) for row in rows]
    if live_moves:
        chart_rows.append(("Interviewer (live)", live_moves))
    svg = charts.timeline(
        rows=chart_rows,
        markers=[(q.elapsed_ms, q.text) for q in asked],
        marker_symbol="?",
        end_ms=end_ms,
        title="Saves per step over the interview, and the questions asked",
        width=REPLAY_WIDTH,
        label_width=REPLAY_LABEL_WIDTH,
        cursor_ms=end_ms,  # where the page opens; the script moves it with the slider
        cursor_id="replay-cursor",
    )
    plot_x, plot_width = charts.timeline_plot(width=REPLAY_WIDTH, label_width=REPLAY_LABEL_WIDTH)
    return ReplayTimeline(end_ms=end_ms, duration_ms=session.duration_seconds * 1000,
                          rows=rows, questions=asked,
                          saves_ms=sorted({ms for values in saves.values() for ms in values}),
                          svg=svg, plot_x=plot_x, plot_width=plot_width, live_events=live)


def session_replay_frame(*, session: InterviewSession, at_ms: int,
                         live_events: Sequence[LiveEvent] = ()) -> ReplayFrame:
    """Each answer as it stood ``at_ms`` milliseconds after the start (the last save at or
    before that time), and the questions asked so far. Three queries: the answers as they
    stood, the rubric's step titles, the questions. ``live_events``: a live interview's
    (the timeline's ``live_events``), of which those up to ``at_ms`` are in the frame."""
    at_ms = max(int(at_ms), 0)
    revisions = AnswerRevision.objects.filter(answer=OuterRef("pk"),
                                              elapsed_ms__lte=at_ms).order_by("-version")
    answers = (Answer.objects.filter(session=session)
               .annotate(at_text=Subquery(revisions.values("text")[:1]),
                         at_diagram=Subquery(revisions.values("diagram")[:1]),
                         at_version=Subquery(revisions.values("version")[:1]),
                         at_ms=Subquery(revisions.values("elapsed_ms")[:1]))
               .order_by("step_number"))
    titles = {step.number: step.title for step in session.rubric.steps.all()}
    steps = [ReplayStep(number=answer.step_number, title=titles.get(answer.step_number, ""),
                        text=answer.at_text or "", diagram=answer.at_diagram or "",
                        version=answer.at_version or 0, saved_ms=answer.at_ms,
                        final_version=answer.version)
             for answer in answers]
    questions = list(QuestionAsked.objects.filter(session=session, elapsed_ms__lte=at_ms))
    live = [event for event in live_events if event.elapsed_ms <= at_ms]
    return ReplayFrame(at_ms=at_ms, steps=steps, questions=questions, live_events=live)


