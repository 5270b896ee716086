"""App configuration of the demo app."""

from __future__ import annotations

from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The pages of the demo project."""

    name = "demo_project.demo"
    label = "demo"
