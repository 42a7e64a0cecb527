from django.core.management.base import BaseCommand

from interviews.services.catalogue import demo_accounts_ensure


class Command(BaseCommand):
    help = "Create (or reset) the demo admin, interviewer and candidate, and print their logins."

    def handle(self, *args, **options):
        self.stdout.write("Demo accounts (local use only):")
        for account in demo_accounts_ensure():
            self.stdout.write(
                f"  {account.role:<12} username: {account.username:<12} "
                f"password: {account.password}"
            )
