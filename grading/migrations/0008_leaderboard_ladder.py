import django.db.models.deletion
from django.db import migrations, models


def start_the_ladder(apps, schema_editor):
    """Each existing row's Ladder starts from the submission it shows, and its public
    columns are rounded as the board shows them (the order of the board then says no more
    than its numbers). Sort values follow the sign the row already has: larger is better."""
    Entry = apps.get_model("grading", "LeaderboardEntry")
    rows = Entry.objects.select_related("leaderboard").only(
        "submission_id", "public_primary", "public_ci_low", "public_ci_high", "public_sort",
        "metrics", "leaderboard__public_decimals")
    for entry in rows.iterator():
        decimals = entry.leaderboard.public_decimals
        value, shown = entry.public_primary, round(entry.public_primary, decimals)
        if entry.public_sort == value:
            sort = shown
        elif entry.public_sort == -value:
            sort = -shown
        else:  # closer to 1 is better
            sort = -abs(shown - 1.0)
        metrics = dict(entry.metrics or {})
        metrics["public"] = {key: round(v, decimals) if isinstance(v, float) else v
                             for key, v in (metrics.get("public") or {}).items()}
        Entry.objects.filter(pk=entry.pk).update(
            ladder_submission_id=entry.submission_id, public_primary=shown,
            public_ci_low=round(entry.public_ci_low, decimals),
            public_ci_high=round(entry.public_ci_high, decimals), public_sort=sort,
            metrics=metrics)


class Migration(migrations.Migration):

    dependencies = [
        ('grading', '0007_dataset_secret'),
    ]

    operations = [
        migrations.AddField(
            model_name='leaderboardentry',
            name='ladder_predictions',
            field=models.BinaryField(default=b'', help_text="The leader's predictions on the public rows (compressed .npy), for the paired comparison with the next submission. Never served."),
        ),
        migrations.AddField(
            model_name='leaderboardentry',
            name='ladder_submission',
            field=models.ForeignKey(blank=True, help_text='The submission whose public score the board shows (the Ladder\'s leader).', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='grading.submission'),
        ),
        migrations.RunPython(start_the_ladder, migrations.RunPython.noop),
    ]
