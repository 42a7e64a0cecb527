from django.core.management.base import BaseCommand

from interviews.services.catalogue import catalogue_load
from mlsd_site.roles import roles_ensure


class Command(BaseCommand):
    help = "Load the rubric and the case-study catalogue; safe to run again."

    def add_arguments(self, parser):
        parser.add_argument(
            "--overwrite",
            action="store_true",
            help="Replace case studies and interviewer-guide steps that exist with the "
            "catalogue's text (drops admin edits).",
        )

    def handle(self, *args, **options):
        roles_ensure()
        result = catalogue_load(overwrite=options["overwrite"])
        rubric_state = "added" if result.rubric_created else "unchanged"
        self.stdout.write(f"Rubric: {result.rubric} ({rubric_state})")
        self.stdout.write(
            f"Case studies: {len(result.created)} created, {len(result.updated)} updated, "
            f"{len(result.unchanged)} unchanged"
        )
        self.stdout.write(f"Interviewer guide steps written: {result.guide_steps_written}")
