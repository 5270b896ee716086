"""HTTP routes of the test project: the admin, so sessions can be made by logging in."""

from django.contrib import admin
from django.urls import path

urlpatterns = [path("admin/", admin.site.urls)]
