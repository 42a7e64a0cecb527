import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from grading.engine.errors import ScoringError
from grading.engine.scoring import score_artifact
from grading.models import Dataset
from grading.selectors.datasets import scoring_task_for
from grading.services.datasets import DatasetMismatch, DatasetSecretMissing, heldout_load
from grading.services.submissions import report_as_json
from interviews.models import CaseStudy


class Command(BaseCommand):
    help = ("Score a model artifact on a case study's held-out data through the same sandbox "
            "as the workers, and print the metrics as JSON.")

    def add_arguments(self, parser):
        parser.add_argument("artifact", type=Path, help="an .onnx or .skops file")
        parser.add_argument("--case", required=True, help="case-study slug")
        parser.add_argument("--plots", action="store_true", help="include the plot data")

    def handle(self, *args, **options):
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
        self.stdout.write(report_as_json(report, include_plots=options["plots"]))
