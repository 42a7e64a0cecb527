import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from grading.engine import metrics
from grading.engine.errors import ScoringError
from grading.engine.scoring import ScoreReport, score_artifact
from grading.models import Dataset
from grading.selectors.datasets import scoring_task_for
from grading.selectors.serving import usd_text
from grading.services.datasets import DatasetMismatch, DatasetSecretMissing, heldout_load
from grading.services.submissions import report_as_json
from interviews.models import CaseStudy


class Command(BaseCommand):
    help = ("Score a model artifact on a case study's held-out data through the same sandbox "
            "as the workers, and print the report: the metrics, serving under load and the "
            "scenario slices (--json: the whole report as JSON).")

    def add_arguments(self, parser):
        parser.add_argument("artifact", type=Path, help="an .onnx or .skops file")
        parser.add_argument("--case", required=True, help="case-study slug")
        parser.add_argument("--json", action="store_true",
                            help="print the report as JSON instead of text")
        parser.add_argument("--plots", action="store_true",
                            help="with --json: include the plot data")

    def handle(self, *args, **options):
        if options["plots"] and not options["json"]:
            raise CommandError("--plots adds the plot data to the JSON: use it with --json.")
        case_study = CaseStudy.objects.filter(slug=options["case"]).first()
        if case_study is None:
            slugs = ", ".join(CaseStudy.objects.values_list("slug", flat=True))
            raise CommandError(f"Unknown case study {options['case']!r}. Known: {slugs}")
        dataset = Dataset.objects.filter(case_study=case_study, is_active=True).first()
        if dataset is None:
            raise CommandError(f"No dataset for {case_study.slug}: run "
                               f"`python manage.py build_datasets --case {case_study.slug}`.")
        artifact: Path = options["artifact"]
        if not artifact.is_file():
            raise CommandError(f"No such file: {artifact}")
        try:
            heldout = heldout_load(dataset=dataset)
        except (DatasetMismatch, DatasetSecretMissing) as error:
            raise CommandError(str(error)) from None
        try:
            report = score_artifact(artifact_path=artifact,
                                    task=scoring_task_for(case_study), heldout=heldout)
        except ScoringError as error:
            self.stderr.write(f"Refused ({error.reason}): {error.message}")
            sys.exit(2)
        if options["json"]:
            self.stdout.write(report_as_json(report, include_plots=options["plots"]))
        else:
            self.stdout.write(report_text(report, case_study=case_study, artifact=artifact))


def _ms(value: float) -> str:
    return f"{value:,.1f} ms" if value >= 1 else f"{value:.3f} ms"


def _rate(value: float) -> str:
    return f"{value:,.0f} rps" if value >= 100 else f"{value:,.3g} rps"




def _load_line(label: str, point: dict, budget_ms: float) -> str:
    verdict = (f"within the {budget_ms:g} ms budget" if point["within_budget"]
               else f"OVER the {budget_ms:g} ms budget")
    return (f"  {label:<34}p50 {_ms(point['p50_ms'])} · p95 {_ms(point['p95_ms'])} · "
            f"p99 {_ms(point['p99_ms'])}: {verdict}")


def _metrics_lines(report: ScoreReport) -> list[str]:
    lines = [f"Metrics{'':<29}{'public':>12}{'private':>12}{'all':>12}"]
    keys = [report.primary_metric,
            *[k for k in report.metrics["all"] if k != report.primary_metric]]
    for key in keys:
        metric = metrics.METRICS.get(key)
        label = metric.label if metric else key
        if key == report.primary_metric:
            label += " (primary)"
        values = "".join(f"{report.metrics[split][key]:>12.5f}" if key in report.metrics[split]
                         else f"{'—':>12}" for split in ("public", "private", "all"))
        lines.append(f"  {label:<34}{values}")
        if key == report.primary_metric:
            intervals = ", ".join(
                f"{split} [{report.intervals[split]['low']:.5f}, "
                f"{report.intervals[split]['high']:.5f}]" for split in ("public", "private"))
            lines.append(f"    95 % interval: {intervals}")
    budget = "within" if report.within_latency_budget else "OVER"
    lines.append(f"  One request alone: p50 {_ms(report.latency_p50_ms)}, "
                 f"p99 {_ms(report.latency_p99_ms)} ({budget} the "
                 f"{report.latency_budget_ms} ms budget)")
    return lines


def _serving_lines(serving: dict) -> list[str]:
    if not serving:
        return ["Serving", "  not measured"]
    memory = serving["peak_memory_bytes"]
    load = serving["load_seconds"]
    budget = serving["budget_ms"]
    target, spike = serving["at_target"], serving["spike"]
    most = serving["max_rate_within_budget_rps"]
    cost = serving["cost_per_million_usd"]
    return [
        "Serving",
        f"  {'Model load time':<34}{'unmeasured' if load is None else f'{load:.3f} s'}",
        f"  {'Peak memory (resident)':<34}"
        f"{'unmeasured' if memory is None else f'{memory / 2**20:,.1f} MiB'}",
        f"  {'Load test':<34}{target['requests']:,} Poisson arrivals per rate (seed "
        f"{serving['seed']}), requests of {serving['request_rows']} "
        f"row{'s' if serving['request_rows'] != 1 else ''}; one request takes "
        f"{_ms(serving['service_ms'])} on average ({serving.get('service_samples', '?')} "
        f"timed)",
        _load_line(f"At the target rate, {_rate(target['rate_rps'])}", target, budget),
        _load_line(f"Traffic spike, {_rate(spike['rate_rps'])}", spike, budget),
        f"  {'Highest rate within budget':<34}"
        + (f"{_rate(most)} on one core (p99 ≤ {budget:g} ms)" if most > 0
           else f"none: p99 is over {budget:g} ms even at a trickle"),
        f"  {'Cost':<34}"
        + (f"{usd_text(cost)} per million predictions (requests) at "
           f"{usd_text(serving['price_per_core_hour_usd'])} per core-hour, cores loaded at "
           f"{_rate(most)}" if cost is not None else "— (no rate meets the budget)"),
    ]


def _scenario_lines(scenarios: dict) -> list[str]:
    from grading.datasets.scenarios import SCENARIOS

    lines = [f"Scenario slices{'':<21}{'public':>24}{'all':>24}"]
    names = [name for name in SCENARIOS
             if any(name in scenarios.get(split, {}) for split in ("public", "all"))]
    for name in names:
        cells = ""
        for split in ("public", "all"):
            value = scenarios.get(split, {}).get(name)
            cells += (f"{'—':>24}" if value is None else
                      f"{value['value']:>10.4f} [{value['low']:.3f}, {value['high']:.3f}]"
                      .rjust(24))
        rows = scenarios.get("all", {}).get(name, {}).get("rows")
        lines.append(f"  {SCENARIOS[name].label:<34}{cells}"
                     + (f"  ({rows:,} rows)" if rows else ""))
    if not names:
        lines.append("  none: no slice has enough rows for the metric")
    return lines


def report_text(report: ScoreReport, *, case_study: CaseStudy, artifact: Path) -> str:
    """The ``score`` command's readable report: the metrics, serving under load, and the
    scenario slices when the report has them."""
    better = {"higher": ", higher is better", "lower": ", lower is better"}.get(
        report.direction, ", closer to 1 is better")
    head = [
        f"{case_study.title} · {artifact.name} · {report.artifact_format.upper()}, "
        f"{report.artifact_bytes / 1024:,.1f} KiB · scorer v{report.scorer_version}",
        f"{report.rows_scored:,} held-out rows scored in "
        f"{report.timings.get('total_seconds', 0):.1f} s; primary metric "
        f"{report.primary_metric}{better}.",
    ]
    sections = [head, _metrics_lines(report), _serving_lines(report.serving)]
    scenarios = getattr(report, "scenarios", None)
    if scenarios:
        sections.append(_scenario_lines(scenarios))
    return "\n\n".join("\n".join(lines) for lines in sections) + "\n"
