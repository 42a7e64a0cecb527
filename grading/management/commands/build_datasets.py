import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from grading import datasets
from grading.baselines.onnx_export import export_onnx
from grading.baselines.training import train_baselines
from grading.services.datasets import (
    DatasetMismatch,
    DatasetSecretMissing,
    dataset_build,
    dataset_secret,
)
from grading.services.submissions import baseline_submission_create, submission_score_now
from interviews.models import CaseStudy


class Command(BaseCommand):
    help = ("Build each case study's training and held-out data from the deployment's dataset "
            "secret (MLSD_DATASET_SECRET), and (with --baselines) train, export, score and "
            "store the baselines.")

    def add_arguments(self, parser):
        parser.add_argument("--case", action="append", help="a case-study slug (repeatable)")
        parser.add_argument("--size", default="default", choices=sorted(datasets.SIZES))
        parser.add_argument("--new-version", action="store_true",
                            help="draw the next data version (new rows, new public/private "
                                 "split) and activate it; scores on older versions stay")
        parser.add_argument("--baselines", action="store_true",
                            help="also train, export and score the baseline models")
        parser.add_argument("--if-missing", action="store_true",
                            help="skip case studies whose active data was built with this "
                                 "secret; data built before secrets gets a new version")

    def handle(self, *args, **options):
        try:
            secret = dataset_secret()
        except DatasetSecretMissing as error:
            raise CommandError(str(error)) from None
        slugs = options["case"] or list(datasets.CASE_SLUGS)
        for slug in slugs:
            case_study = CaseStudy.objects.filter(slug=slug).first()
            if case_study is None:
                raise CommandError(f"Unknown case study {slug!r}; run load_catalogue first.")
            new_version = options["new_version"]
            active = case_study.datasets.filter(is_active=True).first()
            if options["if_missing"] and active is not None:
                if active.key_id == secret.key_id:
                    self.stdout.write(f"{slug}: data already built")
                    continue
                if active.key_id != datasets.LEGACY_KEY_ID:
                    raise CommandError(
                        f"{slug}: the active data ({active}) was built with the dataset "
                        f"secret whose key id is {active.key_id}; this machine's has key id "
                        f"{secret.key_id}. Set the deployment's MLSD_DATASET_SECRET, or "
                        "draw new data with --new-version.")
                self.stdout.write(f"{slug}: the active data was built before dataset "
                                  "secrets; building a new data version")
                new_version = True
            try:
                dataset, built = dataset_build(case_study=case_study, size=options["size"],
                                               new_version=new_version)
            except DatasetMismatch as error:
                raise CommandError(f"{slug}: {error}") from None
            self.stdout.write(
                f"{slug}: data v{dataset.data_version} (id {dataset.dataset_id}, secret key "
                f"id {dataset.key_id}): {dataset.train_rows} training rows, "
                f"{dataset.heldout_rows} held-out ({dataset.public_rows} public) in "
                f"{dataset.build_seconds:.1f}s; fingerprint {dataset.fingerprint[:16]}"
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
