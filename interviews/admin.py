import json

from django import forms
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
    FollowUp,
    Grade,
    GuideStep,
    InterviewSession,
    LiveEvent,
    LiveRoom,
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


class GuideStepInline(admin.TabularInline):
    """Links to the guide's steps; they are edited on their own page (long JSON fields)."""

    model = GuideStep
    fields = ["step_number"]
    readonly_fields = fields
    extra = 0
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(CaseStudy)
class CaseStudyAdmin(admin.ModelAdmin):
    list_display = ["title", "task_type", "primary_metric", "latency_budget_ms",
                    "duration_seconds", "is_published", "order"]
    list_editable = ["is_published", "order"]
    list_filter = ["task_type", "is_published"]
    search_fields = ["title", "slug", "summary"]
    prepopulated_fields = {"slug": ["title"]}
    inlines = [StepBudgetInline, ClarifyingQuestionInline, ConceptInline, GuideStepInline]


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


def _guide_items(value: object, keys: tuple[str, ...]) -> list:
    """``value`` if it is a list of objects with exactly ``keys``, each a non-empty string."""
    shape = "{" + ", ".join(f'"{key}": "..."' for key in keys) + "}"
    if not isinstance(value, list) or not all(
        isinstance(item, dict) and set(item) == set(keys)
        and all(isinstance(item[key], str) and item[key].strip() for key in keys)
        for item in value
    ):
        raise forms.ValidationError(f"Enter a JSON list of {shape} objects, every value "
                                    "filled in.")
    return value


class IndentedJSONField(forms.JSONField):
    """JSON shown one item per line, so a long list can be edited in a text area."""

    def prepare_value(self, value: object) -> object:
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value
        return json.dumps(value, ensure_ascii=False, indent=2, cls=self.encoder)


class GuideStepForm(forms.ModelForm):
    """The JSON fields as roomy, indented text areas, checked for the shape the pages
    read."""

    probes = IndentedJSONField(widget=forms.Textarea(attrs={"rows": 20, "cols": 100}),
                               help_text='[{"question": "...", "signal": "..."}]')
    requirement_changes = IndentedJSONField(
        widget=forms.Textarea(attrs={"rows": 14, "cols": 100}),
        help_text='[{"change": "...", "good_adjustment": "..."}]')
    red_flags = IndentedJSONField(widget=forms.Textarea(attrs={"rows": 8, "cols": 100}),
                                  help_text='["...", "..."]')

    class Meta:
        model = GuideStep
        fields = ["case_study", "step_number", "answer_key", "probes", "requirement_changes",
                  "red_flags"]
        widgets = {"answer_key": forms.Textarea(attrs={"rows": 14, "cols": 100})}

    def clean_probes(self) -> list:
        return _guide_items(self.cleaned_data["probes"], ("question", "signal"))

    def clean_requirement_changes(self) -> list:
        return _guide_items(self.cleaned_data["requirement_changes"],
                            ("change", "good_adjustment"))

    def clean_red_flags(self) -> list:
        flags = self.cleaned_data["red_flags"]
        if not isinstance(flags, list) or not all(
            isinstance(flag, str) and flag.strip() for flag in flags
        ):
            raise forms.ValidationError('Enter a JSON list of strings: ["...", "..."].')
        return flags


@admin.register(GuideStep)
class GuideStepAdmin(admin.ModelAdmin):
    """The interviewer guide. The answer key is shown to candidates after they submit; the
    probes, requirement changes and red flags are for interviewers only."""

    form = GuideStepForm
    list_display = ["case_study", "step_number", "probe_count", "change_count", "flag_count"]
    list_filter = ["case_study", "step_number"]
    list_select_related = ["case_study"]
    search_fields = ["case_study__title", "answer_key"]

    @admin.display(description="probes")
    def probe_count(self, obj: GuideStep) -> int:
        return len(obj.probes)

    @admin.display(description="requirement changes")
    def change_count(self, obj: GuideStep) -> int:
        return len(obj.requirement_changes)

    @admin.display(description="red flags")
    def flag_count(self, obj: GuideStep) -> int:
        return len(obj.red_flags)


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


# --- live interviews: read-only (the log is the record; changes go through the room's pages) ---


class LiveEventInline(ReadOnlyInline):
    model = LiveEvent
    fields = ["seq", "kind", "audience", "actor", "step_number", "body", "data", "created_at",
              "elapsed_ms"]
    readonly_fields = fields
    ordering = ["seq"]


class FollowUpInline(ReadOnlyInline):
    model = FollowUp
    fields = ["step_number", "question", "answer", "version", "updated_at"]
    readonly_fields = fields


@admin.register(LiveRoom)
class LiveRoomAdmin(admin.ModelAdmin):
    """Live rooms and their event logs, read-only: who interviews is decided in the
    scorecard queue (claim, assign) and the room's pages, which check the rules."""

    list_display = ["id", "candidate", "case_study", "interviewer", "state", "created_at",
                    "ended_at", "last_seq"]
    list_filter = ["state", "case_study"]
    search_fields = ["candidate__username", "interviewer__username", "case_study__title"]
    list_select_related = ["candidate", "case_study", "interviewer"]
    readonly_fields = ["candidate", "case_study", "interviewer", "session", "state",
                       "created_at", "ended_at", "last_seq"]
    inlines = [FollowUpInline, LiveEventInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(LiveEvent)
class LiveEventAdmin(admin.ModelAdmin):
    list_display = ["room", "seq", "kind", "audience", "actor", "step_number", "created_at"]
    list_filter = ["kind", "audience"]
    list_select_related = ["room__candidate", "room__case_study", "actor"]
    readonly_fields = ["room", "seq", "kind", "audience", "actor", "step_number", "body", "data",
                       "created_at", "elapsed_ms"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
