# Datasets are derived from a deployment secret: the seed is no longer stored.
#
# Rows built before this migration came from a committed seed, so anyone can rebuild their
# held-out labels. They keep their scores, but get the key id "legacy", which no secret
# matches: no machine rebuilds them, and `build_datasets` builds a new data version.

from django.db import migrations, models


def number_legacy_builds(apps, schema_editor):
    """Give each case study's existing builds data versions 1, 2, ... in build order (two of
    them could share generator version and size, having differed only by seed)."""
    Dataset = apps.get_model("grading", "Dataset")
    version: dict[int, int] = {}
    for row in Dataset.objects.order_by("case_study_id", "created_at", "pk").only(
            "pk", "case_study_id"):
        version[row.case_study_id] = version.get(row.case_study_id, 0) + 1
        Dataset.objects.filter(pk=row.pk).update(
            data_version=version[row.case_study_id], dataset_id=f"legacy-{row.pk}")


class Migration(migrations.Migration):

    dependencies = [
        ('grading', '0006_leaderboard_closed_dataset'),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='dataset',
            name='unique_dataset_version',
        ),
        migrations.RemoveField(
            model_name='dataset',
            name='seed',
        ),
        migrations.AddField(
            model_name='dataset',
            name='data_version',
            field=models.PositiveIntegerField(default=1, help_text='Counts the builds of this case study: a new version draws new data (build_datasets --new-version).'),
        ),
        migrations.AddField(
            model_name='dataset',
            name='dataset_id',
            field=models.CharField(default='legacy', help_text='A public name of this build, derived from the dataset secret; it does not reveal the data.', max_length=32),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name='dataset',
            name='key_id',
            field=models.CharField(default='legacy', help_text='Names the dataset secret the data was built with: only a machine whose secret has this key id can rebuild it.', max_length=32),
            preserve_default=False,
        ),
        migrations.RunPython(number_legacy_builds, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='dataset',
            constraint=models.UniqueConstraint(fields=('case_study', 'generator_version', 'size', 'data_version'), name='unique_dataset_version'),
        ),
        migrations.AddConstraint(
            model_name='dataset',
            constraint=models.CheckConstraint(condition=models.Q(('data_version__gte', 1)), name='data_version_from_1'),
        ),
    ]
