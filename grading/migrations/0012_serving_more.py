# Reserved for schema changes of the serving (issue 16, load test) work, so that parallel work never forks the
# migration graph. Squashed into one migration when the work lands.
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("grading", "0011_serving_scenarios_claims")]

    operations = []
