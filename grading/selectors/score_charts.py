"""Turn a score's stored plot data into SVG charts (server-side: no script, no CDN)."""

from __future__ import annotations

from mlsd_site import charts


def score_charts(*, task_type: str, plots: dict, per_slice: dict[str, float],
                 primary_label: str) -> list[tuple[str, str]]:
    """(title, svg) pairs for one split's plot data and per-slice values."""
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
            out.append(("Residuals", charts.histogram(
                edges=residuals["edges"], counts=residuals["counts"],
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
