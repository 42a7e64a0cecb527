# The engine's finer failure code on a failed submission (a rejection code, "memory",
# "cpu_limit"...), so the submission page can say how to fix it. Empty on older rows: the
# page falls back to a hint for the failure reason.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('grading', '0009_verbose_names'),
    ]

    operations = [
        migrations.AddField(
            model_name='submission',
            name='failure_code',
            field=models.CharField(blank=True, help_text="The engine's finer reason (a rejection code, memory, cpu_limit...): the submission page's hint on how to fix it follows it.", max_length=40),
        ),
    ]
