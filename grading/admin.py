from django.contrib import admin

from grading.models import WorkerHeartbeat


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    list_display = ["hostname", "seen_at", "started_at"]
    readonly_fields = ["hostname", "seen_at", "started_at"]
