# The admin's names for two models: "leaderboard entries" (Django's default plural read
# "leaderboard entrys") and "quota usage". Options only: no change to the schema.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('grading', '0008_leaderboard_ladder'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='leaderboardentry',
            options={'verbose_name_plural': 'leaderboard entries'},
        ),
        migrations.AlterModelOptions(
            name='quotausage',
            options={'verbose_name_plural': 'quota usage'},
        ),
    ]
