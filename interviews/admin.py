from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from interviews import services
from interviews.models import (
    CaseStudy,
    ClarifyingQuestion,
    Concept,
    Rubric,
    RubricStep,
    StepBudget,
)


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
            new = services.rubric_copy_as_new_version(rubric=rubric)
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
