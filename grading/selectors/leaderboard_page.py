"""The leaderboard page as a reader gets it (``leaderboard_shown``): its table and charts
drawn once per change of the board and kept in Django's cache, the reader's own marks and
each row's "ago" filled in per request. The rows, ranks and charts themselves come from
``grading.selectors.leaderboards``."""

import hashlib
import math
import time
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path

from django.core.cache import cache
from django.core.paginator import Paginator
from django.template.defaultfilters import filesizeformat, floatformat, pluralize
from django.template.loader import render_to_string
from django.utils import dateformat, formats, timezone
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import template_localtime
from django.utils.translation import get_language

from grading.models import Leaderboard, LeaderboardEntry, LeaderboardRecord
from grading.selectors.leaderboards import (
    PAGE_SIZE,
    HistoryChart,
    LeaderboardPage,
    LeaderboardRow,
    MetricColumn,
    _history_unit,
    leaderboard_change,
    leaderboard_columns,
    leaderboard_history_chart,
    leaderboard_page,
    leaderboard_sort,
    leaderboard_split,
)
from interviews.models import CaseStudy

# --- the page as a reader gets it: cached between changes of the board -------------------------
#
# A page of the board changes only when the board does (a score lands, a re-score, a pin, a
# failed submission's count, the round closes or reopens, an admin edits it) or, for two
# things, with the clock: how long ago each row last sent a model, and the history chart's
# end, which is now. So each page's table is rendered once per change of the board (its
# rows in one pass here, without a template per row), kept in Django's cache under the
# board's change marker (``leaderboard_change``), and only three things are filled in for
# each request (``BoardFragment``): the "me" row class and the "you" chip of the reader's
# own row, and each row's "ago". The charts are kept under the same marker, the history
# chart redrawn once its end is more than ``HISTORY_SLACK`` of its span behind now.

CACHE_SECONDS = 3600  # a marker's entries are unreachable once it changes; this frees them
HISTORY_SLACK = 0.005  # of the chart's span: 3 px of the 640 drawn
ROWS_MARK = "<!-- leaderboard rows -->"
ROOT = Path(__file__).resolve().parents[2]
# What the cached HTML and charts are drawn by: a deploy that changes any of it never
# serves an earlier drawing from a shared cache.
DRAWN_BY = hashlib.sha256(b"".join(
    path.read_bytes() for path in sorted([
        Path(__file__), Path(__file__).with_name("leaderboards.py"),
        Path(__file__).with_name("serving.py"),
        ROOT / "templates" / "grading" / "leaderboard.html",
        *(ROOT / "mlsd_site" / "charts").glob("*.py")]) if path.exists())).hexdigest()[:12]

# A place in cached HTML filled for each request: ("me", candidate id) is "me" on the
# reader's own row, ("you", candidate id) the "you" chip there, ("ago", datetime) how long
# ago. Plain tuples: a cached page holds 150 of them, unpickled on every request.
Slot = tuple[str, object]
YOU_CHIP = ' <span class="chip">you</span>'


@dataclass(frozen=True)
class BoardFragment:
    """HTML rendered once per change of the board, with ``Slot``s for what depends on who
    reads it and when."""

    parts: tuple[str | Slot, ...]

    def render(self, *, viewer_id: int | None) -> SafeString:
        """The HTML for the reader whose user id is ``viewer_id`` (None: logged out), now."""
        language = get_language() or ""
        now = time.time()
        out = []
        for part in self.parts:
            if part.__class__ is str:
                out.append(part)
                continue
            kind, value = part
            if kind == "ago":
                out.append(_ago(value, now, language))
            elif value is not None and value == viewer_id:
                out.append("me" if kind == "me" else YOU_CHIP)
        return mark_safe("".join(out))  # noqa: S308 - built from escaped parts


# naturaltime's text of a time, and until when (epoch seconds) it stays that text, in this
# process: ~40 µs a call, 50 calls a page, and the texts change at most once a second.
_AGO: dict[tuple[str, datetime], tuple[str, float]] = {}
AGO_REMEMBERED = 50_000


def _ago(value: datetime, now: float, language: str) -> str:
    """``value|naturaltime``, escaped, as of ``now``: the text ``naturaltime`` gave at an
    earlier request if it cannot have changed since (``_ago_until``), else a new one."""
    from django.contrib.humanize.templatetags.humanize import naturaltime

    key = (language, value)
    known = _AGO.get(key)
    if known is not None and now < known[1]:
        return known[0]
    text = escape(str(naturaltime(value)))  # as of a moment at or after ``now``
    if len(_AGO) >= AGO_REMEMBERED:
        _AGO.clear()
    _AGO[key] = (text, _ago_until(value.timestamp(), now))
    return text


def _ago_until(value: float, now: float) -> float:
    """The first instant after ``now`` at which ``naturaltime`` of the time ``value`` (both
    epoch seconds) may change, less a second's margin; ``now`` itself when unsure.

    Under a day it counts whole seconds, minutes or hours since ``value``, which change at
    ``value`` plus whole units. From a day on it is ``timesince``: months from a pivot at
    ``value``'s date and time of day (without microseconds, hence the margin), then weeks,
    days and hours from it, which change at the pivot plus whole hours, and the months at
    a UTC midnight (a date change) or at ``value``'s time of day."""
    since = now - value
    if since < 0:
        return now
    unit = 1 if since < 60 else 60 if since < 3600 else 3600
    if since < 86400:
        return now + unit - since % unit - 1e-3
    whole = now - math.floor(value)
    midnight = (math.floor(now / 86400) + 1) * 86400
    return min(now + unit - whole % unit, midnight) - 1.0


def _merged(parts: list[str | Slot]) -> tuple[str | Slot, ...]:
    """``parts`` with each run of strings joined into one."""
    out: list[str | Slot] = []
    for part in parts:
        if part.__class__ is str and out and out[-1].__class__ is str:
            out[-1] += part
        else:
            out.append(part)
    return tuple(out)


def _text(value) -> str:
    """``value`` as ``{{ value }}`` writes it: localized, escaped."""
    return conditional_escape(formats.localize(value))


def _shake_up(change: int | None) -> str:
    """The private ranking's "Change" cell's content: places moved since the public one."""
    if change is None:
        return ""
    if change == 0:
        return '<span class="muted" title="the same place as on the public ranking">=</span>'
    moved = abs(change)
    places = f"{moved} place{pluralize(moved)}"
    if change > 0:
        return f'<span class="up" title="up {places} from the public ranking">▲ {moved}</span>'
    return f'<span class="down" title="down {places} from the public ranking">▼ {moved}</span>'


def _serving_cell(entry: LeaderboardEntry) -> str:
    from grading.selectors.serving import rate_text, usd_text

    alone = floatformat(entry.latency_p99_ms, 1)
    label = 'data-label="p99 ms, max rps, $ per 1M"'
    serving = entry.serving
    if not serving:
        return (f'<td class="lb-serving" {label} title="scored before the load test; one '
                f'request alone: p99 {alone} ms, budget {_text(entry.latency_budget_ms)} ms">'
                f"—</td>")
    over = "" if serving.get("within_budget") else "down"
    return (f'<td class="lb-serving" data-server-measured {label} title="at '
            f'{floatformat(serving.get("target_rps"), "-1")} requests/s, budget '
            f'{_text(serving.get("budget_ms"))} ms; one request alone: p99 {alone} ms">'
            f'<span data-testid="p99-at-target" class="{over}">'
            f'{floatformat(serving.get("p99_ms"), 1)}</span> <span class="ci" '
            f'data-testid="max-rate">'
            f'{escape(rate_text(serving.get("max_rate_within_budget_rps"), unit=""))}</span> '
            f'<span class="ci" data-testid="cost">'
            f'{escape(usd_text(serving.get("cost_per_million_usd")))}</span></td>')


def leaderboard_rows_parts(page: LeaderboardPage) -> list[str | Slot]:
    """The ``<tr>``s of ``page`` in one pass, as the page's table shows them, with the
    reader's marks and each row's "ago" left as ``Slot``s."""
    if not page.rows:
        return [f'<tr><td colspan="{len(page.secondary) + 8}" class="muted">No scored '
                f"submissions yet.</td></tr>"]
    private = page.split == "private"
    decimals = page.decimals
    primary_label = escape(page.primary.short_label)
    labels = [escape(column.short_label) for column in page.secondary]
    parts: list[str | Slot] = []
    for row in page.rows:
        entry = row.entry
        mine = None if entry.is_baseline else entry.candidate_id
        name = escape(entry.display_name)
        parts += ['\n<tr class="', ("me", mine),
                  ' baseline" data-testid="row">' if entry.is_baseline
                  else '" data-testid="row">',
                  f'<td class="lb-rank" data-testid="rank">'
                  f'{"–" if row.rank is None else row.rank}</td>']
        if private:
            parts.append(f'<td class="lb-change" data-testid="shake-up">'
                         f"{_shake_up(row.rank_change)}</td>")
        if entry.is_baseline:
            parts.append(f'<td class="lb-who">baseline: {name}</td>')
        else:
            parts += [f'<td class="lb-who"><span class="lb-name" title="{name}">{name}</span>',
                      ("you", mine), "</td>"]
        tie = '<span class="tie">tied</span> ' if row.tied_with_above else ""
        full = f' title="{_text(row.value)}"' if private else ""
        parts.append(
            f'<td class="lb-primary" data-label="{primary_label}" data-testid="primary">{tie}'
            f"<strong{full}>{floatformat(row.value, decimals)}</strong> "
            f'<span class="ci">[{floatformat(row.ci_low, decimals)}, '
            f"{floatformat(row.ci_high, decimals)}]</span></td>")
        parts += [f'<td data-label="{label}">'
                  f'{"—" if value is None else floatformat(value, decimals)}</td>'
                  for label, value in zip(labels, row.secondary, strict=True)]
        last = entry.last_submitted_at
        parts += [_serving_cell(entry),
                  f'<td data-label="Size">{filesizeformat(entry.artifact_bytes)}</td>'
                  f'<td data-label="Sent" data-testid="sent">{_text(entry.submission_count)}'
                  f'</td><td class="lb-last" data-label="Last" '
                  f'title="{dateformat.format(template_localtime(last), "c")}">',
                  ("ago", last), "</td>\n</tr>"]
    return parts


def leaderboard_table_fragment(page: LeaderboardPage) -> BoardFragment:
    """The table's section of the page for ``page``, readers' marks left open: its frame
    (the notes, the column heads, the pager) from the template's partial, its rows from
    ``leaderboard_rows_parts``."""
    frame = render_to_string("grading/leaderboard.html#leaderboard-section",
                             {"board": page, "rows": mark_safe(ROWS_MARK)})  # noqa: S308
    before, after = frame.split(ROWS_MARK)
    return BoardFragment(parts=_merged([before, *leaderboard_rows_parts(page), after]))


@dataclass(frozen=True)
class BoardCharts:
    """The charts of one split of the board under one change marker; the history chart with
    what says when it needs drawing again."""

    history: HistoryChart | None
    pareto: HistoryChart | None
    drawn_at: float  # epoch seconds
    history_start: float | None  # epoch seconds of the first record

    def fresh(self, now: float) -> bool:
        """Whether the history chart's end (drawn at ``drawn_at``) is still close enough to
        ``now``: behind by at most ``HISTORY_SLACK`` of the span (a second at least), in the
        same unit."""
        if self.history_start is None:
            return True
        span, drawn_span = now - self.history_start, self.drawn_at - self.history_start
        return (now - self.drawn_at <= max(1.0, HISTORY_SLACK * span)
                and _history_unit(max(span, 1.0)) == _history_unit(max(drawn_span, 1.0)))


@dataclass
class LeaderboardShown:
    """The leaderboard page for one reader: the table's section (``table``, ready to insert),
    the charts, and what the page around them says."""

    leaderboard: Leaderboard
    case_study: CaseStudy
    split: str
    sort: str
    worst_first: bool
    primary: MetricColumn
    decimals: int
    user: object
    requested_page: int | str
    page_number: int = 1
    table: SafeString = field(default_factory=lambda: mark_safe(""))  # noqa: S308
    history_chart: HistoryChart | None = None
    pareto_chart: HistoryChart | None = None
    computed: LeaderboardPage | None = None  # when this request built the page

    @cached_property
    def page(self) -> LeaderboardPage:
        """The page's rows as objects (tests, the standings check), built when asked for."""
        return self.computed or leaderboard_page(
            leaderboard=self.leaderboard, user=self.user, split=self.split, sort=self.sort,
            worst_first=self.worst_first, page_number=self.requested_page)

    @property
    def rows(self) -> list[LeaderboardRow]:
        return self.page.rows

    @cached_property
    def records(self) -> list[LeaderboardRecord]:
        if self.computed is not None:
            return self.computed.records
        return list(self.leaderboard.records.all()) if self.split == "public" else []


def _page_guess(page_number: int | str) -> int:
    """The page number asked for, as ``Paginator.get_page`` reads it when it is in range;
    0 (never stored) when it is not a plain page number."""
    try:
        number = int(page_number)
    except (TypeError, ValueError):
        return 1
    return number if 1 <= number <= 10**6 else 0


def leaderboard_shown(*, leaderboard: Leaderboard, user, split: str | None = None,
                      sort: str = "primary", worst_first: bool = False,
                      page_number: int | str = 1, charts: bool = True) -> LeaderboardShown:
    """The page ``leaderboard_page`` describes (same arguments), as ``user`` sees it, with
    the history and quality/latency charts when ``charts``. From the cache when the board
    has not changed since it was drawn (``leaderboard_change``): one cache round trip and
    no query beyond the leaderboard's own; built, then kept, otherwise. During an open round
    every figure in it is the rounded public one, as ``leaderboard_page`` gives them."""
    from grading.selectors.serving import leaderboard_pareto_chart

    case_study = leaderboard.case_study
    primary, secondary = leaderboard_columns(case_study)
    shown = LeaderboardShown(
        leaderboard=leaderboard, case_study=case_study,
        split=leaderboard_split(leaderboard=leaderboard, split=split),
        sort=leaderboard_sort(secondary=secondary, sort=sort), worst_first=worst_first,
        primary=primary, decimals=leaderboard.public_decimals, user=user,
        requested_page=page_number)
    viewer_id = user.pk if user.is_authenticated else None
    marker = leaderboard_change(leaderboard)
    if marker is None:  # not cacheable: drawn for this request only
        shown.computed = shown.page
        shown.page_number = shown.computed.page.number
        shown.table = leaderboard_table_fragment(shown.computed).render(viewer_id=viewer_id)
        if charts:
            shown.history_chart = leaderboard_history_chart(board=shown)
            shown.pareto_chart = leaderboard_pareto_chart(board=shown)
        return shown

    base = ":".join(["leaderboard", DRAWN_BY, str(leaderboard.pk), marker, shown.split,
                     timezone.get_current_timezone_name(), get_language() or ""])
    count_key, charts_key = f"{base}:count", f"{base}:charts"

    def page_key(number: int) -> str:
        return f"{base}:{shown.sort}:{int(worst_first)}:{number}"

    guess = _page_guess(page_number)
    found = cache.get_many([count_key, page_key(guess), *([charts_key] if charts else [])])
    count = found.get(count_key)
    number = guess if count is None else Paginator(range(count), PAGE_SIZE).get_page(
        page_number).number
    fragment = found.get(page_key(guess)) if number == guess else cache.get(page_key(number))
    store = {}
    if fragment is None:
        shown.computed = shown.page
        number = shown.computed.page.number
        fragment = leaderboard_table_fragment(shown.computed)
        store |= {page_key(number): fragment, count_key: shown.computed.total_entries}
    shown.page_number = number
    shown.table = fragment.render(viewer_id=viewer_id)
    if charts:
        drawn = found.get(charts_key)
        now = time.time()
        if drawn is None or not drawn.fresh(now):
            history = leaderboard_history_chart(board=shown)
            drawn = BoardCharts(
                history=history,
                pareto=drawn.pareto if drawn is not None else leaderboard_pareto_chart(
                    board=shown),
                drawn_at=now,
                history_start=shown.records[0].achieved_at.timestamp() if history else None)
            store[charts_key] = drawn
        shown.history_chart, shown.pareto_chart = drawn.history, drawn.pareto
    if store:
        cache.set_many(store, CACHE_SECONDS)
    return shown
