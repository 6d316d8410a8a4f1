from django.contrib import admin

from videogen.models import JobEvent, VideoJob
from videogen.webhooks import admin as webhooks_admin  # noqa: F401  (registers webhook pages)


class JobEventInline(admin.TabularInline):
    model = JobEvent
    extra = 0
    can_delete = False
    fields = ("created_at", "kind", "old_status", "new_status", "detail", "actor")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(VideoJob)
class VideoJobAdmin(admin.ModelAdmin):
    list_display = ("__str__", "model", "status", "archive_status", "cost", "created_at")
    list_filter = ("status", "archive_status", "model")
    search_fields = ("prompt", "remote_id")
    date_hierarchy = "created_at"
    list_select_related = ("created_by",)
    readonly_fields = ("id", "remote_id", "status", "archive_status", "created_at", "updated_at")
    inlines = [JobEventInline]


@admin.register(JobEvent)
class JobEventAdmin(admin.ModelAdmin):
    """Read-only: events are written by the lifecycle, never by hand."""

    list_display = ("job", "created_at", "kind", "old_status", "new_status", "detail")
    list_filter = ("kind", "new_status")
    list_select_related = ("job",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
