"""System checks of model grading's settings: ``manage.py check --deploy`` reports a missing
or weak dataset secret, which the site itself does not need to start."""

from django.conf import settings
from django.core.checks import Error, Tags, register

from grading.datasets import DatasetSecret, DatasetSecretInvalid


@register(Tags.security, deploy=True)
def dataset_secret_check(app_configs, **kwargs) -> list[Error]:
    hint = ("Set MLSD_DATASET_SECRET (or MLSD_DATASET_SECRET_FILE) to a random secret, the "
            "same for the web server and every worker: "
            "python -c 'import secrets; print(secrets.token_hex(32))'.")
    if not settings.DATASET_SECRET:
        return [Error("No dataset secret: no dataset can be built or rebuilt, so nothing "
                      "can be scored.", hint=hint, id="grading.E001")]
    try:
        DatasetSecret.from_text(settings.DATASET_SECRET)
    except DatasetSecretInvalid as error:
        return [Error(f"The dataset secret is not usable: {error}.", hint=hint,
                      id="grading.E002")]
    return []
