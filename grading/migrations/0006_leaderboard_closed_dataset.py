import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('grading', '0005_workerheartbeat_queues'),
    ]

    operations = [
        migrations.AddField(
            model_name='leaderboard',
            name='closed_dataset',
            field=models.ForeignKey(blank=True, help_text='The dataset active when the round last closed: its private split is revealed, so the round reopens only on a dataset built after the close.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='grading.dataset'),
        ),
    ]
