import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from grading import datasets
from grading.baselines.onnx_export import export_onnx
from grading.baselines.training import train_baselines
from grading.services.datasets import dataset_build
from grading.services.submissions import baseline_submission_create, submission_score_now
from interviews.models import CaseStudy


class Command(BaseCommand):
    help = ("Build each case study's training and held-out data from its seeded generator, "
            "and (with --baselines) train, export, score and store the baselines.")

    def add_arguments(self, parser):
        parser.add_argument("--case", action="append", help="a case-study slug (repeatable)")
        parser.add_argument("--size", default="default", choices=sorted(datasets.SIZES))
        parser.add_argument("--seed", type=int, default=datasets.DEFAULT_SEED)
        parser.add_argument("--baselines", action="store_true",
                            help="also train, export and score the baseline models")
        parser.add_argument("--if-missing", action="store_true",
                            help="skip case studies that already have an active dataset")

    def handle(self, *args, **options):
        slugs = options["case"] or list(datasets.CASE_SLUGS)
        for slug in slugs:
            case_study = CaseStudy.objects.filter(slug=slug).first()
            if case_study is None:
                raise CommandError(f"Unknown case study {slug!r}; run load_catalogue first.")
            if options["if_missing"] and case_study.datasets.filter(is_active=True).exists():
                self.stdout.write(f"{slug}: data already built")
                continue
            dataset, built = dataset_build(case_study=case_study, seed=options["seed"],
                                                    size=options["size"])
            self.stdout.write(
                f"{slug}: {dataset.train_rows} training rows, {dataset.heldout_rows} held-out "
                f"({dataset.public_rows} public) in {dataset.build_seconds:.1f}s; "
                f"fingerprint {dataset.fingerprint[:16]}"
            )
            if options["baselines"]:
                self._baselines(case_study, built)

    def _baselines(self, case_study, built):
        models = train_baselines(built)
        with tempfile.TemporaryDirectory() as tmp:
            for name, model in models.items():
                path = export_onnx(model.pipeline, built.spec, Path(tmp) / f"{name}.onnx")
                submission = baseline_submission_create(
                    case_study=case_study, name=name, artifact_path=path,
                    note=model.description)
                score = submission_score_now(submission=submission)
                if score is None:
                    submission.refresh_from_db()
                    self.stderr.write(f"  baseline {name} failed: {submission.failure_reason}: "
                                      f"{submission.failure_message}")
                    continue
                self.stdout.write(
                    f"  baseline {name}: {score.primary_metric} private "
                    f"{score.private_primary:.4f} "
                    f"[{score.private_ci_low:.4f}, {score.private_ci_high:.4f}], public "
                    f"{score.public_primary:.4f}, p99 {score.latency_p99_ms:.1f} ms"
                )
