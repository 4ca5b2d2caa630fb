from django.contrib import admin

from serviceops.cases.models import CannedResponse, Category, Tag

# Cases themselves change only through the product's services (which record events and
# audit entries), so they are not editable here; reference data is.
admin.site.register(Category)
admin.site.register(Tag)
admin.site.register(CannedResponse)
