"""Reads for design claims: the claims of an interview session, each beside the measurement of
the model the candidate linked to the session and its verdict (``grading.engine.claims``);
the choices the claim editor offers; the candidate's scored submissions they may link.

Who sees what: while the case study's leaderboard round is open, every figure is the public
split's, rounded to the leaderboard's ``public_decimals`` (its interval too), exactly as the
submission page shows it, so a claim's verdict says no more about the held-out labels than
that page does; after the round closes, the private split (scenario slices: the whole
held-out split) at full precision. Latency and size are not derived from labels: unrounded.
"""

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from django.http import Http404

from grading.datasets.recipes import REASONABLE
from grading.datasets.scenarios import SCENARIOS, TRAFFIC_SPIKE
from grading.engine import claims as rules
from grading.engine import metrics
from grading.engine.artifacts import MiB
from grading.models import DesignClaim, Leaderboard, Score, SessionModelLink, Submission
from grading.selectors.leaderboards import leaderboard_settings
from interviews.models import CaseStudy, InterviewSession

Kind = DesignClaim.Kind

#: The steps that take claims: metrics (2), requirements (3), training and evaluation (4).
CLAIM_STEPS = (2, 3, 4)
#: The step whose claims panel holds the "Link a model" control.
LINK_STEP = 4
#: Decimals shown for private figures once a round is closed (compared at full precision).
CLOSED_DECIMALS = 4


@dataclass(frozen=True)
class MetricChoice:
    key: str
    label: str
    direction: str  # higher, lower, target_one


@dataclass(frozen=True)
class ClaimChoices:
    """What the claim editor offers for a case study."""

    metrics: list[MetricChoice]
    scenarios: list[tuple[str, str]]  # (name, label)
    primary: MetricChoice
    target_rate_rps: float
    latency_budget_ms: int

    @property
    def metric_keys(self) -> set[str]:
        return {choice.key for choice in self.metrics}

    @property
    def kinds(self) -> list[tuple[str, str]]:
        return list(Kind.choices)


def _metric_choice(key: str) -> MetricChoice:
    try:
        metric = metrics.metric_get(key)
    except KeyError:
        return MetricChoice(key=key, label=key, direction="")
    return MetricChoice(key=key, label=metric.label, direction=str(metric.direction))


def claim_choices(*, case_study: CaseStudy) -> ClaimChoices:
    """The case study's primary metric and the secondary ones the scorer computes, the
    scenario slices, the load test's target rate and the latency budget. No query."""
    keys = [case_study.primary_metric,
            *[key for key in case_study.secondary_metrics or []
              if key != case_study.primary_metric and key in metrics.METRICS]]
    return ClaimChoices(
        metrics=[_metric_choice(key) for key in keys],
        scenarios=[(scenario.name, scenario.label) for scenario in SCENARIOS.values()],
        primary=_metric_choice(case_study.primary_metric),
        target_rate_rps=case_study.target_rate_rps,
        latency_budget_ms=case_study.latency_budget_ms,
    )


@dataclass(frozen=True)
class CheckedClaim:
    """One claim beside its measurement and verdict."""

    claim: DesignClaim
    statement: str
    measurement: str  # the figure (and interval) as shown; "" when not measured
    verdict: str
    note: str  # where the figure comes from, or why there is none
    made_after_scoring: bool
    offset_ms: int  # since the session started (for the replay)
    after_interview: bool

    @property
    def verdict_label(self) -> str:
        return rules.VERDICT_LABELS[self.verdict]


@dataclass
class SessionClaims:
    """The claims of a session, checked against its linked model's current score."""

    session: InterviewSession
    choices: ClaimChoices
    submission: Submission | None
    score: Score | None
    claims: list[CheckedClaim] = field(default_factory=list)

    @cached_property
    def leaderboard(self) -> Leaderboard:
        """Read only when a figure is shown (a page without a linked model saves the query)."""
        return leaderboard_settings(case_study=self.session.case_study)

    @property
    def round_open(self) -> bool:
        return not self.leaderboard.is_closed

    @property
    def decimals(self) -> int:
        return self.leaderboard.public_decimals

    @property
    def split_note(self) -> str:
        if self.round_open:
            return (f"public split, rounded to {self.decimals} decimals while the round "
                    "is open")
        return "private split, since the round closed"

    def for_step(self, step_number: int) -> list[CheckedClaim]:
        return [checked for checked in self.claims if checked.claim.step_number == step_number]

    def at(self, step_number: int, at_ms: int) -> list[CheckedClaim]:
        """The step's claims made by ``at_ms`` since the start (the replay's frame); those
        made after the interview count as made at its end."""
        end_ms = self.session.used_seconds * 1000
        return [checked for checked in self.for_step(step_number)
                if min(checked.offset_ms, end_ms) <= at_ms]


def _number(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}"


def _claimed(value: float | None) -> str:
    return f"{value:g}" if value is not None else "?"


def claim_statement(claim: DesignClaim, choices: ClaimChoices) -> str:
    """The claim in words: "NDCG@10 on held-out data ≥ 0.35"."""
    symbol = rules.COMPARATOR_SYMBOLS.get(claim.comparator, "?")
    label = next((c.label for c in choices.metrics if c.key == claim.metric),
                 claim.metric or choices.primary.label)
    if claim.kind == Kind.HELDOUT_METRIC:
        return f"{label} on held-out data {symbol} {_claimed(claim.value)}"
    if claim.kind == Kind.SCENARIO_METRIC:
        scenario = SCENARIOS.get(claim.scenario)
        where = scenario.label if scenario else claim.scenario
        return f"{label} on the {where} slice {symbol} {_claimed(claim.value)}"
    if claim.kind == Kind.LATENCY_P99:
        return (f"p99 latency at the target rate ({choices.target_rate_rps:g} requests/s) "
                f"{symbol} {_claimed(claim.value)} ms")
    if claim.kind == Kind.MODEL_SIZE:
        return f"Model size {symbol} {_claimed(claim.value)} MiB"
    return f"Beats the reasonable baseline on {choices.primary.label}"


@dataclass(frozen=True)
class _Checked:
    verdict: str
    measurement: str = ""
    note: str = ""


class _Checker:
    """Measures each kind of claim on one score, in the split and rounding the round allows."""

    def __init__(self, *, score: Score | None, baseline: Score | None, round_open: bool,
                 decimals: int):
        self.score, self.baseline = score, baseline
        self.round_open, self.decimals = round_open, decimals

    def shown(self, value: float) -> float:
        return round(value, self.decimals) if self.round_open else value

    def primary(self, score: Score) -> rules.Measurement:
        if self.round_open:
            return rules.Measurement(self.shown(score.public_primary),
                                     self.shown(score.public_ci_low),
                                     self.shown(score.public_ci_high))
        return rules.Measurement(score.private_primary, score.private_ci_low,
                                 score.private_ci_high)

    def text(self, measured: rules.Measurement, unit: str = "") -> str:
        decimals = self.decimals if self.round_open else CLOSED_DECIMALS
        text = _number(measured.value, decimals) + unit
        if measured.has_interval:
            text += (f" [{_number(measured.low, decimals)}, "
                     f"{_number(measured.high, decimals)}]")
        return text

    def check(self, claim: DesignClaim, choices: ClaimChoices) -> _Checked:
        if self.score is None:
            return _Checked(rules.NOT_MEASURED, note="No scored model is linked to this "
                                                     "interview yet.")
        method = getattr(self, f"_{claim.kind}", None)
        if method is None:
            return _Checked(rules.NOT_MEASURED, note="Unknown kind of claim.")
        return method(claim, choices)

    def _heldout_metric(self, claim: DesignClaim, choices: ClaimChoices) -> _Checked:
        score = self.score
        if claim.metric == score.primary_metric:
            measured = self.primary(score)
            note = "95 % interval in brackets"
        else:
            split = "public" if self.round_open else "private"
            value = (score.metrics or {}).get(split, {}).get(claim.metric)
            if value is None:
                return _Checked(rules.NOT_MEASURED,
                                note="The model's score has no figure for this metric.")
            measured = rules.Measurement(self.shown(value))
            note = "no interval for a secondary metric: compared directly"
        verdict = rules.verdict_against_threshold(measured=measured,
                                                  comparator=claim.comparator,
                                                  claimed=claim.value)
        return _Checked(verdict, self.text(measured), note)

    def _scenario_metric(self, claim: DesignClaim, choices: ClaimChoices) -> _Checked:
        split = "public" if self.round_open else "all"
        figure = (self.score.scenarios or {}).get(split, {}).get(claim.scenario)
        if not figure or figure.get("value") is None:
            return _Checked(rules.NOT_MEASURED,
                            note="No figure for this slice yet: the model was scored before "
                                 "scenario slices existed, or the slice has too few rows.")
        low, high = figure.get("low"), figure.get("high")
        measured = rules.Measurement(
            self.shown(figure["value"]),
            None if low is None else self.shown(low), None if high is None else self.shown(high))
        verdict = rules.verdict_against_threshold(measured=measured,
                                                  comparator=claim.comparator,
                                                  claimed=claim.value)
        rows = figure.get("rows")
        note = "95 % interval in brackets" + (f"; {rows:,} rows" if rows else "")
        return _Checked(verdict, self.text(measured), note)

    def _latency_p99(self, claim: DesignClaim, choices: ClaimChoices) -> _Checked:
        at_target = (self.score.serving or {}).get("at_target") or {}
        p99 = at_target.get("p99_ms")
        if p99 is None:
            return _Checked(rules.NOT_MEASURED,
                            note="No load test for this model yet: it was scored before the "
                                 "serving evaluation existed.")
        measured = rules.Measurement(float(p99))
        verdict = rules.verdict_against_threshold(
            measured=measured, comparator=claim.comparator, claimed=claim.value,
            tolerance=rules.LATENCY_TOLERANCE)
        rate = at_target.get("rate_rps", choices.target_rate_rps)
        return _Checked(verdict, f"{p99:.1f} ms",
                        f"p99 at {rate:g} requests/s; within 5 % of the claim is too close "
                        "to call")

    def _model_size(self, claim: DesignClaim, choices: ClaimChoices) -> _Checked:
        size_mib = self.score.artifact_bytes / MiB
        verdict = rules.verdict_against_threshold(
            measured=rules.Measurement(size_mib), comparator=claim.comparator,
            claimed=claim.value)
        return _Checked(verdict, f"{size_mib:.2f} MiB", "the uploaded file's size")

    def _beats_baseline(self, claim: DesignClaim, choices: ClaimChoices) -> _Checked:
        if self.baseline is None:
            return _Checked(rules.NOT_MEASURED,
                            note="The reasonable baseline has no score on this case study yet.")
        mine, theirs = self.primary(self.score), self.primary(self.baseline)
        verdict = rules.verdict_beats(candidate=mine, baseline=theirs,
                                      direction=choices.primary.direction or "higher")
        return _Checked(verdict, f"{self.text(mine)} vs {self.text(theirs)}",
                        f"yours vs the reasonable baseline's {choices.primary.label}; "
                        "intervals that overlap are inconclusive")


def _offset_ms(moment: datetime, session: InterviewSession) -> int:
    return max(int((moment - session.started_at).total_seconds() * 1000), 0)


def session_claims(*, session: InterviewSession) -> SessionClaims:
    """The session's claims, each checked against the current score of the submission
    linked to the session. At most five queries: the claims, the link with its submission;
    with a linked model, its current score and the leaderboard; the baseline's score when a
    claim is about it."""
    choices = claim_choices(case_study=session.case_study)
    claims = list(DesignClaim.objects.filter(session=session))
    link = (SessionModelLink.objects.filter(session=session)
            .select_related("submission").first())
    submission = link.submission if link else None
    score = (Score.objects.filter(submission=submission, is_current=True).first()
             if submission else None)
    report = SessionClaims(session=session, choices=choices, submission=submission,
                           score=score)
    if not claims:
        return report
    baseline = None
    if score is not None and any(c.kind == Kind.BEATS_BASELINE for c in claims):
        baseline = (Score.objects.filter(
            is_current=True, submission__case_study_id=session.case_study_id,
            submission__baseline_name=REASONABLE, submission__candidate__isnull=True)
            .order_by("-created_at").first())
    if score is None:
        checker = _Checker(score=None, baseline=None, round_open=True, decimals=4)
    else:
        checker = _Checker(score=score, baseline=baseline, round_open=report.round_open,
                           decimals=report.decimals)
    ended = session.submitted_at
    for claim in claims:
        result = checker.check(claim, choices)
        report.claims.append(CheckedClaim(
            claim=claim, statement=claim_statement(claim, choices),
            measurement=result.measurement, verdict=result.verdict, note=result.note,
            made_after_scoring=bool(score and claim.updated_at > score.created_at),
            offset_ms=_offset_ms(claim.created_at, session),
            after_interview=bool(ended and claim.created_at > ended),
        ))
    return report


@dataclass(frozen=True)
class LinkOption:
    submission: Submission
    public_value: float  # rounded as on the leaderboard
    metric_label: str


def linkable_submissions(*, session: InterviewSession,
                         leaderboard: Leaderboard | None = None) -> list[LinkOption]:
    """The session's candidate's scored submissions for its case study (current scores
    only), newest first, with the public primary metric rounded as on the leaderboard. One
    query, and the leaderboard's if there are any and it is not given."""
    scores = list(Score.objects.filter(is_current=True,
                                       submission__candidate_id=session.candidate_id,
                                       submission__case_study_id=session.case_study_id,
                                       submission__status=Submission.Status.SCORED)
                  .select_related("submission").order_by("-submission__created_at"))
    if not scores:
        return []
    decimals = (leaderboard or leaderboard_settings(case_study=session.case_study)
                ).public_decimals
    return [LinkOption(submission=score.submission,
                       public_value=round(score.public_primary, decimals),
                       metric_label=_metric_choice(score.primary_metric).label)
            for score in scores]


def claim_get_for_session(*, session: InterviewSession, claim_id: int,
                          step_number: int) -> DesignClaim:
    """A claim of ``session`` on ``step_number``; Http404 otherwise (the caller has already
    fetched the session through its candidate-scoped getter)."""
    claim = DesignClaim.objects.filter(pk=claim_id, session=session,
                                       step_number=step_number).first()
    if claim is None:
        raise Http404("No such claim.")
    return claim


@dataclass(frozen=True)
class ClaimRow:
    checked: CheckedClaim
    values: dict[str, str]
    errors: dict[str, list[str]]
    prefix: str  # of the edit form's element ids


@dataclass
class ClaimsPanel:
    """What one step's claims panel shows: the step's checked claims and, for the
    candidate (``editable``), the editor, with the fields of a refused post kept
    (``posted``, ``errors``; ``editing``: the claim whose edit was refused, None for a
    new one) and, on step 4, the submissions they may link."""

    report: SessionClaims
    step: int
    editable: bool
    claims: list[CheckedClaim]
    options: list[LinkOption] = field(default_factory=list)
    errors: dict[str, list[str]] = field(default_factory=dict)
    posted: dict[str, str] = field(default_factory=dict)
    editing: int | None = None

    @property
    def session(self) -> InterviewSession:
        return self.report.session

    @property
    def is_link_step(self) -> bool:
        return self.step == LINK_STEP

    @property
    def rows(self) -> list["ClaimRow"]:
        """Each claim with the values its edit form shows: the refused post's for the claim
        being edited, else the claim's own."""
        rows = []
        for checked in self.claims:
            claim = checked.claim
            refused = self.editing == claim.pk and bool(self.claim_errors)
            values = self.posted if refused else {
                "kind": claim.kind, "metric": claim.metric, "scenario": claim.scenario,
                "comparator": claim.comparator,
                "value": "" if claim.value is None else f"{claim.value:g}"}
            rows.append(ClaimRow(checked=checked, values=values,
                                 errors=self.claim_errors if refused else {},
                                 prefix=f"claim-{claim.pk}"))
        return rows

    @property
    def new_values(self) -> dict[str, str]:
        """The "Add a claim" form's values: the refused post's, else a primary-metric claim
        in the metric's better direction."""
        if self.add_refused:
            return self.posted
        primary = self.report.choices.primary
        return {"kind": Kind.HELDOUT_METRIC, "metric": primary.key, "scenario": "",
                "comparator": rules.AT_MOST if primary.direction == "lower" else rules.AT_LEAST,
                "value": ""}

    @property
    def new_errors(self) -> dict[str, list[str]]:
        return self.claim_errors if self.add_refused else {}

    @property
    def new_prefix(self) -> str:
        return f"claim-new-{self.step}"

    @property
    def link_error(self) -> str:
        return " ".join(self.errors.get("submission", []))

    @property
    def claim_errors(self) -> dict[str, list[str]]:
        """The refused claim's errors by field (the link control's are apart)."""
        return {name: values for name, values in self.errors.items() if name != "submission"}

    @property
    def claim_error_text(self) -> str:
        return " ".join(message for values in self.claim_errors.values() for message in values)

    @property
    def add_refused(self) -> bool:
        return bool(self.claim_errors) and self.editing is None


def claims_panel(*, report: SessionClaims, step: int, editable: bool,
                 at_ms: int | None = None, errors: dict | None = None,
                 posted: dict | None = None, editing: int | None = None) -> ClaimsPanel:
    """The panel of ``step``: its claims (those made by ``at_ms`` for a replay frame),
    and the linkable submissions when the candidate edits step 4 (two more queries)."""
    claims = report.for_step(step) if at_ms is None else report.at(step, at_ms)
    # The leaderboard is already read when a model is linked; otherwise only if needed.
    leaderboard = report.leaderboard if report.score is not None else None
    options = (linkable_submissions(session=report.session, leaderboard=leaderboard)
               if editable and step == LINK_STEP else [])
    return ClaimsPanel(report=report, step=step, editable=editable, claims=claims,
                       options=options, errors=errors or {}, posted=posted or {},
                       editing=editing)


@dataclass(frozen=True)
class ScenarioFigure:
    """One scenario an interviewer can announce in a live interview, with the linked model's
    figure on it (shown by the rules of the claims: the public split, rounded, while the
    round is open)."""

    name: str
    label: str
    announcement: str
    measurement: str  # "" when not measured
    note: str


@dataclass(frozen=True)
class LiveScenarios:
    figures: list[ScenarioFigure]
    linked: bool  # a scored model is linked to the session: the figures are its


def live_scenario_figures(*, session: InterviewSession | None,
                          case_study: CaseStudy) -> LiveScenarios:
    """The scenario slices and the traffic spike for a live interview's console, each with
    the figure of the model the candidate linked to ``session`` (none yet: said so)."""
    link = (SessionModelLink.objects.filter(session=session).select_related("submission")
            .first() if session is not None else None)
    score = (Score.objects.filter(submission=link.submission, is_current=True).first()
             if link is not None else None)
    figures = []
    if score is None:
        return LiveScenarios(figures=[ScenarioFigure(s.name, s.label, s.announcement, "", "")
                                      for s in (*SCENARIOS.values(), TRAFFIC_SPIKE)],
                             linked=False)
    board = leaderboard_settings(case_study=case_study)
    checker = _Checker(score=score, baseline=None, round_open=not board.is_closed,
                       decimals=board.public_decimals)
    primary = metrics.metric_get(score.primary_metric).label
    split = "all" if board.is_closed else "public"
    for scenario in SCENARIOS.values():
        figure = (score.scenarios or {}).get(split, {}).get(scenario.name)
        if not figure or figure.get("value") is None:
            figures.append(ScenarioFigure(scenario.name, scenario.label, scenario.announcement,
                                          "", "No figure for this slice yet."))
            continue
        low, high = figure.get("low"), figure.get("high")
        measured = rules.Measurement(
            checker.shown(figure["value"]), None if low is None else checker.shown(low),
            None if high is None else checker.shown(high))
        overall = checker.text(checker.primary(score))
        figures.append(ScenarioFigure(
            scenario.name, scenario.label, scenario.announcement,
            f"{primary} {checker.text(measured)}",
            f"on {figure.get('rows', 0):,} rows; {overall} on the whole split"))
    spike = (score.serving or {}).get("spike") or {}
    if spike.get("p99_ms") is None:
        figures.append(ScenarioFigure(TRAFFIC_SPIKE.name, TRAFFIC_SPIKE.label,
                                      TRAFFIC_SPIKE.announcement, "",
                                      "No load test for this model yet."))
    else:
        budget = (score.serving or {}).get("budget_ms", score.latency_budget_ms)
        within = "within" if spike.get("within_budget") else "over"
        figures.append(ScenarioFigure(
            TRAFFIC_SPIKE.name, TRAFFIC_SPIKE.label, TRAFFIC_SPIKE.announcement,
            f"p99 {float(spike['p99_ms']):.1f} ms at {float(spike['rate_rps']):g} requests/s",
            f"{within} the {budget} ms budget"))
    return LiveScenarios(figures=figures, linked=True)

