from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from grading.models import (
    Dataset,
    Leaderboard,
    LeaderboardEntry,
    QuotaUsage,
    Score,
    Submission,
    WorkerHeartbeat,
)
from grading.services.leaderboards import (
    RoundReopenRefused,
    leaderboard_changed,
    leaderboard_close,
    leaderboard_reopen,
)
from grading.services.submissions import case_study_rescore, submission_enqueue


@admin.register(Leaderboard)
class LeaderboardAdmin(admin.ModelAdmin):
    list_display = ["case_study", "daily_quota", "is_public", "is_closed", "closed_at"]
    list_editable = ["daily_quota", "is_public"]
    # Closing and reopening go through the actions (which record and check the dataset).
    readonly_fields = ["is_closed", "closed_at", "closed_dataset"]
    actions = ["close_round", "reopen_round", "rescore_all"]

    @admin.action(description="Close the round (reveal the private ranking, stop uploads)")
    def close_round(self, request: HttpRequest, queryset: QuerySet[Leaderboard]) -> None:
        for leaderboard in queryset:
            leaderboard_close(leaderboard=leaderboard)
        self.message_user(request, f"Closed {queryset.count()} round(s).", messages.SUCCESS)

    @admin.action(description="Reopen the round (needs a new dataset version)")
    def reopen_round(self, request: HttpRequest, queryset: QuerySet[Leaderboard]) -> None:
        reopened = 0
        for leaderboard in queryset:
            try:
                leaderboard_reopen(leaderboard=leaderboard)
            except RoundReopenRefused as refused:
                self.message_user(request, f"{leaderboard}: {refused}", messages.ERROR)
            else:
                reopened += 1
        if reopened:
            self.message_user(request, f"Reopened {reopened} round(s).", messages.SUCCESS)

    @admin.action(description="Re-score every submission (after a dataset or scorer change)")
    def rescore_all(self, request: HttpRequest, queryset: QuerySet[Leaderboard]) -> None:
        total = sum(case_study_rescore(case_study=lb.case_study) for lb in queryset)
        self.message_user(request, f"Queued {total} submission(s) for re-scoring.",
                          messages.SUCCESS)


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    """Builds are made by ``build_datasets`` (from the dataset secret, which no page shows):
    here they are read, and one is activated."""

    list_display = ["case_study", "data_version", "generator_version", "size", "dataset_id",
                    "key_id", "train_rows", "heldout_rows", "is_active", "created_at"]
    list_filter = ["case_study", "is_active", "key_id"]
    readonly_fields = ["case_study", "generator_version", "data_version", "size", "dataset_id",
                       "key_id", "fingerprint", "train_rows", "heldout_rows", "public_rows",
                       "build_seconds", "created_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


class ScoreInline(admin.TabularInline):
    model = Score
    extra = 0
    can_delete = False
    fields = ["dataset", "scorer_version", "is_current", "public_primary", "private_primary",
              "latency_p99_ms", "created_at"]
    readonly_fields = fields


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = ["case_study", "candidate", "baseline_name", "status", "failure_reason",
                    "attempts", "created_at"]
    list_filter = ["case_study", "status", "failure_reason"]
    search_fields = ["candidate__username", "baseline_name", "original_filename", "note"]
    readonly_fields = ["uuid", "artifact_sha256", "artifact_bytes", "artifact_format",
                       "attempts", "created_at", "enqueued_at", "started_at", "finished_at"]
    inlines = [ScoreInline]
    actions = ["requeue"]

    @admin.action(description="Queue again for scoring")
    def requeue(self, request: HttpRequest, queryset: QuerySet[Submission]) -> None:
        for submission in queryset:
            submission_enqueue(submission_id=submission.pk)
        self.message_user(request, f"Queued {queryset.count()} submission(s).",
                          messages.SUCCESS)


@admin.register(Score)
class ScoreAdmin(admin.ModelAdmin):
    list_display = ["submission", "primary_metric", "public_primary", "private_primary",
                    "scorer_version", "is_current", "created_at"]
    list_filter = ["primary_metric", "is_current"]


@admin.register(LeaderboardEntry)
class LeaderboardEntryAdmin(admin.ModelAdmin):
    list_display = ["leaderboard", "display_name", "public_primary", "private_primary",
                    "submission_count", "is_baseline"]
    list_filter = ["leaderboard"]
    # The Ladder's stored public predictions are server-side data, not for the admin (and
    # hundreds of kilobytes a row).
    exclude = ["ladder_predictions"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[LeaderboardEntry]:
        return super().get_queryset(request).defer("ladder_predictions")

    # The board's pages are cached per change of the board: an edit here is one.
    def save_model(self, request: HttpRequest, obj: LeaderboardEntry, form, change) -> None:
        super().save_model(request, obj, form, change)
        leaderboard_changed(leaderboard_id=obj.leaderboard_id)

    def delete_model(self, request: HttpRequest, obj: LeaderboardEntry) -> None:
        super().delete_model(request, obj)
        leaderboard_changed(leaderboard_id=obj.leaderboard_id)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[LeaderboardEntry]) -> None:
        boards = set(queryset.values_list("leaderboard_id", flat=True))
        super().delete_queryset(request, queryset)
        for board in boards:
            leaderboard_changed(leaderboard_id=board)


@admin.register(QuotaUsage)
class QuotaUsageAdmin(admin.ModelAdmin):
    list_display = ["candidate", "case_study", "day", "used"]
    list_filter = ["case_study", "day"]


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    list_display = ["hostname", "queues", "seen_at", "started_at"]
    readonly_fields = ["hostname", "queues", "seen_at", "started_at"]
