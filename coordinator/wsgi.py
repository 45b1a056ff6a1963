"""WSGI entry point, for serving plain HTTP from a WSGI server beside an ASGI one for websockets."""

from __future__ import annotations

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "coordinator.settings")
application = get_wsgi_application()
