"""Turn a score's stored plot data into SVG charts (server-side: no script, no CDN).

While a round is open the public part may say no more than its rounded headline
(``leaderboard.public_decimals``). Every chart drawn from labels row by row (the curves,
the reliability diagram, the histograms of residuals) is a count of public labels in
regions the model chooses: a model whose scores encode row buckets would read the public
labels back from it, however few points or decimals it kept. So those charts are kept back
until the round closes (``charts_kept_back`` names them), and the per-week values, each the
headline's metric on one week's public rows, are rounded like the headline before they are
drawn, so the SVG's coordinates carry no more than the rounded numbers."""

from __future__ import annotations

from mlsd_site import charts

# The plot data of each task type that is drawn from labels row by row, with the name the
# page gives it while it is kept back.
LABEL_PLOTS = {
    "binary": {"roc": "ROC curve", "pr": "precision-recall curve",
               "reliability": "reliability diagram"},
    "ranking": {"ndcg_at_k": "NDCG at k"},
    "regression": {"residuals": "residual histogram",
                   "predicted_vs_actual": "predicted-against-actual chart"},
}


def charts_kept_back(*, task_type: str, plots: dict) -> list[str]:
    """The names of the charts ``score_charts`` leaves out while the round is open."""
    return [name for key, name in LABEL_PLOTS.get(task_type, {}).items() if plots.get(key)]


def score_charts(*, task_type: str, plots: dict, per_slice: dict[str, float],
                 primary_label: str, public_decimals: int | None = None
                 ) -> list[tuple[str, str]]:
    """(title, svg) pairs for one split's plot data and per-slice values. While the round
    is open pass ``public_decimals``: only the per-slice chart is drawn, from values
    rounded to those decimals."""
    if public_decimals is not None:
        plots = {}
        per_slice = {label: round(value, public_decimals) for label, value in per_slice.items()}
    out: list[tuple[str, str]] = []
    if task_type == "binary":
        if plots.get("roc"):
            out.append(("ROC curve", charts.line_chart(
                series=[charts.Series("model", [tuple(p) for p in plots["roc"]])],
                title="ROC curve", x_label="false positive rate", y_label="true positive rate",
                x_range=(0, 1), y_range=(0, 1), diagonal=True)))
        if plots.get("pr"):
            out.append(("Precision-recall curve", charts.line_chart(
                series=[charts.Series("model", [tuple(p) for p in plots["pr"]])],
                title="Precision-recall curve", x_label="recall", y_label="precision",
                x_range=(0, 1), y_range=(0, 1))))
        if plots.get("reliability"):
            points = [(b["predicted"], b["observed"]) for b in plots["reliability"]]
            high = max(max(max(p) for p in points) * 1.1, 1e-3)
            out.append(("Reliability diagram", charts.line_chart(
                series=[charts.Series("model", points, kind="points")],
                title="Reliability diagram", x_label="mean predicted probability",
                y_label="observed rate", x_range=(0, high), y_range=(0, high),
                diagonal=True)))
    elif task_type == "ranking":
        if plots.get("ndcg_at_k"):
            curve = plots["ndcg_at_k"]
            out.append(("NDCG at k", charts.line_chart(
                series=[charts.Series("model", [(k, v) for k, v in enumerate(curve, start=1)])],
                title="NDCG at k", x_label="k (results shown)", y_label="NDCG@k",
                y_range=(0, 1))))
    else:
        if plots.get("residuals"):
            residuals = plots["residuals"]
            # The range drawn is clipped to about the 0.5th-99.5th percentiles. Plot data
            # since the tail counts were stored has them apart (drawn as overflow bins);
            # older data piled them into the end bins, which the caption then says.
            tails = "below" in residuals or "above" in residuals
            caption = ("Residuals" if tails else "Residuals (the first and last bins also "
                       "hold the rows beyond them, about 1 % in all)")
            out.append((caption, charts.histogram(
                edges=residuals["edges"], counts=residuals["counts"],
                below=residuals.get("below", 0), above=residuals.get("above", 0),
                title="Residuals (predicted − actual, minutes)", x_label="minutes")))
        if plots.get("predicted_vs_actual"):
            # Cells of a 2-D histogram (actual, predicted, rows); drawn at their centres.
            out.append(("Predicted against actual", charts.scatter(
                points=[(cell[0], cell[1]) for cell in plots["predicted_vs_actual"]],
                title="Predicted against actual", x_label="actual minutes",
                y_label="predicted minutes")))
    if per_slice:
        labels = list(per_slice)
        out.append((f"{primary_label} per week (staleness)", charts.line_chart(
            series=[charts.Series(primary_label, [(i, per_slice[k]) for i, k in
                                                  enumerate(labels)])],
            title=f"{primary_label} per held-out week", x_label="held-out week",
            y_label=primary_label, x_ticks_labels=labels)))
    return out
