from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from interviews.models import (
    Answer,
    AnswerRevision,
    CaseStudy,
    ClarifyingQuestion,
    Concept,
    EvidenceQuote,
    Grade,
    InterviewSession,
    QuestionAsked,
    Rubric,
    RubricStep,
    StepBudget,
    StepScore,
    StepTime,
)
from interviews.services.catalogue import rubric_copy_as_new_version


class StepBudgetInline(admin.TabularInline):
    model = StepBudget
    extra = 0


class ClarifyingQuestionInline(admin.StackedInline):
    model = ClarifyingQuestion
    extra = 0


class ConceptInline(admin.TabularInline):
    model = Concept
    extra = 0


@admin.register(CaseStudy)
class CaseStudyAdmin(admin.ModelAdmin):
    list_display = ["title", "task_type", "primary_metric", "latency_budget_ms",
                    "duration_seconds", "is_published", "order"]
    list_editable = ["is_published", "order"]
    list_filter = ["task_type", "is_published"]
    search_fields = ["title", "slug", "summary"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [StepBudgetInline, ClarifyingQuestionInline, ConceptInline]


class RubricStepInline(admin.StackedInline):
    model = RubricStep
    extra = 0

    def has_change_permission(self, request: HttpRequest, obj: Rubric | None = None) -> bool:
        # A version other than the current one is history: grades refer to it.
        if obj is not None and not obj.is_current:
            return False
        return super().has_change_permission(request, obj)


@admin.register(Rubric)
class RubricAdmin(admin.ModelAdmin):
    list_display = ["name", "version", "is_current", "created_at"]
    readonly_fields = ["version", "is_current", "created_at"]
    inlines = [RubricStepInline]
    actions = ["copy_as_new_version"]

    @admin.action(description="Copy as a new current version (to edit without rewriting grades)")
    def copy_as_new_version(self, request: HttpRequest, queryset: QuerySet[Rubric]) -> None:
        for rubric in queryset:
            new = rubric_copy_as_new_version(rubric=rubric)
            self.message_user(request, f"Created {new}.", messages.SUCCESS)


@admin.register(ClarifyingQuestion)
class ClarifyingQuestionAdmin(admin.ModelAdmin):
    list_display = ["question", "case_study", "order"]
    list_filter = ["case_study"]


@admin.register(Concept)
class ConceptAdmin(admin.ModelAdmin):
    list_display = ["name", "case_study", "step_number"]
    list_filter = ["case_study", "step_number"]
    search_fields = ["name"]


class ReadOnlyInline(admin.TabularInline):
    """Session records are evidence for scorecards: the admin shows them, never edits them."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class AnswerInline(ReadOnlyInline):
    model = Answer
    fields = ["step_number", "version", "updated_at", "text", "diagram"]
    readonly_fields = fields


class StepTimeInline(ReadOnlyInline):
    model = StepTime
    fields = ["step_number", "seconds"]
    readonly_fields = fields


class QuestionAskedInline(ReadOnlyInline):
    model = QuestionAsked
    fields = ["kind", "text", "asked_at", "elapsed_ms"]
    readonly_fields = fields


@admin.register(InterviewSession)
class InterviewSessionAdmin(admin.ModelAdmin):
    list_display = ["id", "candidate", "case_study", "status", "started_at", "deadline",
                    "submitted_at", "submit_reason"]
    list_filter = ["status", "submit_reason", "case_study"]
    search_fields = ["candidate__username", "case_study__title"]
    date_hierarchy = "started_at"
    list_select_related = ["candidate", "case_study"]
    readonly_fields = ["candidate", "case_study", "rubric", "status", "duration_seconds",
                       "started_at", "deadline", "submitted_at", "submit_reason", "active_step",
                       "active_step_since", "graders_required", "feedback_released_at",
                       "feedback_released_by", "feedback_verdict", "feedback_weighted_mean"]
    inlines = [AnswerInline, StepTimeInline, QuestionAskedInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(AnswerRevision)
class AnswerRevisionAdmin(admin.ModelAdmin):
    list_display = ["answer", "version", "saved_at", "elapsed_ms"]
    list_select_related = ["answer"]
    readonly_fields = ["answer", "version", "text", "diagram", "saved_at", "elapsed_ms"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class StepScoreInline(ReadOnlyInline):
    model = StepScore
    fields = ["step_number", "level", "not_reached", "comment"]
    readonly_fields = fields


class EvidenceQuoteInline(ReadOnlyInline):
    model = EvidenceQuote
    fields = ["step_number", "text", "created_at"]
    readonly_fields = fields


@admin.register(Grade)
class GradeAdmin(admin.ModelAdmin):
    """Grades are read-only here: drafts change on the scorecard page, and submitted grades do
    not change at all (the database refuses it). Assigning graders and releasing feedback go
    through the scorecard queue, which checks the rules."""

    list_display = ["id", "session", "grader", "status", "verdict", "suggested_verdict",
                    "weighted_mean", "submitted_at"]
    list_filter = ["status", "verdict", "session__case_study"]
    search_fields = ["grader__username", "session__candidate__username"]
    list_select_related = ["session__candidate", "session__case_study", "grader"]
    readonly_fields = ["session", "grader", "assigned_by", "status", "revision", "red_flags",
                       "verdict", "override_reason", "summary", "suggested_verdict",
                       "weighted_mean", "created_at", "updated_at", "submitted_at"]
    inlines = [StepScoreInline, EvidenceQuoteInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
