from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from interviews.services.catalogue import demo_accounts_ensure

REFUSED_WITHOUT_DEBUG = (
    "demo_accounts refuses to run with DEBUG=0: it creates a superuser and other accounts "
    "whose passwords are published in the README. Run it only on a development machine "
    "(DEBUG=1, as `make run` does); in production create accounts with createsuperuser.")


class Command(BaseCommand):
    help = ("Create (or reset) the demo admin, interviewer and candidate, and print their "
            "logins. Development only: refuses to run with DEBUG=0.")

    def handle(self, *args, **options):
        # The passwords are public, so a production site must never get these accounts.
        if not settings.DEBUG:
            raise CommandError(REFUSED_WITHOUT_DEBUG)
        self.stdout.write("Demo accounts (local use only):")
        for account in demo_accounts_ensure():
            self.stdout.write(
                f"  {account.role:<12} username: {account.username:<12} "
                f"password: {account.password}"
            )
