# Reserved for schema changes of the design claims (issue 16) work, so that parallel work never forks the
# migration graph. Squashed into one migration when the work lands.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("grading", "0013_scenarios_more")]

    operations = []
