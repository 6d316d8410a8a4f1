from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import path
from django.views.generic import TemplateView

from project.views import webhook_receiver

urlpatterns = [
    path("", TemplateView.as_view(template_name="demo/index.html"), name="demo-index"),
    path("admin/", admin.site.urls),
    path("demo/webhook-receiver/", webhook_receiver, name="demo-webhook-receiver"),
]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
