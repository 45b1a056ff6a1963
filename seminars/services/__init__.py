"""Every write of the seminars app, one module per workflow (import the workflow module)."""

from __future__ import annotations
