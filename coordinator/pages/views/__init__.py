"""The pages every feature shares, one module per family: ``home`` (start page with the features' panels,
programme and language switches), ``me`` (my page and settings), ``notifications``, ``barometer``, ``feed``
(the personal calendar subscription) and ``health``. They gather what the features contribute through the
registry and import no feature.

The project's URLconf (``coordinator/urls.py``) reaches the views through the names below; nothing else
imports them from here.
"""

from coordinator.pages.views.barometer import BarometerView
from coordinator.pages.views.feed import calendar_feed
from coordinator.pages.views.health import healthz
from coordinator.pages.views.home import HomeView, SwitchProgrammeView, set_language
from coordinator.pages.views.me import MyPageView, RotateCalendarTokenView, SettingsView
from coordinator.pages.views.notifications import MarkNotificationsReadView, NotificationListView

__all__ = [
    "BarometerView",
    "HomeView",
    "MarkNotificationsReadView",
    "MyPageView",
    "NotificationListView",
    "RotateCalendarTokenView",
    "SettingsView",
    "SwitchProgrammeView",
    "calendar_feed",
    "healthz",
    "set_language",
]
