"""Static files storage for production: WhiteNoise's compressed, hashed files, with the
import statements of ES modules rewritten to the hashed names too (Django's opt-in), so a
page's scripts and the shared modules they import always come from the same deploy."""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class ModuleAwareStaticFilesStorage(CompressedManifestStaticFilesStorage):
    support_js_module_import_aggregation = True
