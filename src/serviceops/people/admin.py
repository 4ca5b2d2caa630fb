from django.contrib import admin

from serviceops.people.models import Skill, Staff, Team


@admin.register(Staff)
class StaffAdmin(admin.ModelAdmin):
    list_display = ("name", "role", "email", "is_active")
    list_filter = ("role", "teams", "is_active")
    search_fields = ("name", "email")
    filter_horizontal = ("teams", "skills")


admin.site.register(Team)
admin.site.register(Skill)
