"""Replay: every save of every step on a timeline, and each answer as it stood at a
moment."""

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import OuterRef, Subquery

from interviews.models import (
    Answer,
    AnswerRevision,
    InterviewSession,
    QuestionAsked,
)


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


REPLAY_WIDTH = 900
REPLAY_LABEL_WIDTH = 170
REPLAY_RIGHT_PAD = 22  # room for the last time label
REPLAY_ROW = 26


@dataclass
class ReplayTimeline:
    """The saves of each step as ticks on a time axis (milliseconds since the start), and
    the clarifying questions, for the replay slider."""

    end_ms: int
    duration_ms: int
    rows: list[dict]
    questions: list[dict]
    axis: list[dict]
    saves_ms: list[int] = field(default_factory=list)
    width: int = REPLAY_WIDTH
    label_width: int = REPLAY_LABEL_WIDTH

    @property
    def plot_width(self) -> int:
        return self.width - self.label_width - REPLAY_RIGHT_PAD

    @property
    def plot_end(self) -> int:
        return self.width - REPLAY_RIGHT_PAD

    @property
    def height(self) -> int:
        return REPLAY_ROW * (len(self.rows) + 1) + 26


def session_replay_timeline(*, session: InterviewSession) -> ReplayTimeline:
    titles = {step.number: step.title for step in session.rubric.steps.all()}
    saves: dict[int, list[int]] = defaultdict(list)
    for step_number, elapsed in (AnswerRevision.objects.filter(answer__session=session)
                                 .values_list("answer__step_number", "elapsed_ms")):
        saves[step_number].append(elapsed)
    asked = list(QuestionAsked.objects.filter(session=session))
    end_ms = max(session.used_seconds * 1000,
                 max((ms for values in saves.values() for ms in values), default=0),
                 max((q.elapsed_ms for q in asked), default=0), 1000)
    plot = REPLAY_WIDTH - REPLAY_LABEL_WIDTH - REPLAY_RIGHT_PAD

    def x(ms: int) -> float:
        return round(REPLAY_LABEL_WIDTH + plot * min(ms, end_ms) / end_ms, 1)

    rows = [{"number": n, "title": titles.get(n, f"Step {n}"), "y": REPLAY_ROW * (i + 1),
             "ticks": [x(ms) for ms in sorted(saves.get(n, []))],
             "count": len(saves.get(n, []))}
            for i, n in enumerate(range(1, 7))]
    questions = [{"x": x(q.elapsed_ms), "ms": q.elapsed_ms, "text": q.text} for q in asked]
    minutes = max(end_ms // 60000, 1)
    stride = next(s for s in (1, 2, 5, 10, 15, 30, 60) if minutes / s <= 9)
    axis = [{"x": x(m * 60000), "label": f"{m}:00"}
            for m in range(0, minutes + 1, stride) if m * 60000 <= end_ms]
    return ReplayTimeline(end_ms=end_ms, duration_ms=session.duration_seconds * 1000,
                          rows=rows, questions=questions, axis=axis,
                          saves_ms=sorted({ms for values in saves.values() for ms in values}))


def session_replay_frame(*, session: InterviewSession, at_ms: int) -> ReplayFrame:
    """Each answer as it stood ``at_ms`` milliseconds after the start (the last save at or
    before that time), and the questions asked so far. Two queries."""
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
    return ReplayFrame(at_ms=at_ms, steps=steps, questions=questions)


