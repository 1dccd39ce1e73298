from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SchedulerConfig(AppConfig):
    """The schedule's runs (config/schedule.py names the jobs): one row per attempt."""

    name = "config.scheduler"
    label = "scheduler"
    verbose_name = _("Planning")
