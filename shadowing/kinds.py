"""The notification kinds the shadowing app sends (registered with their labels in ``shadowing.jobs``)."""

from __future__ import annotations

KIND_APPROVAL = "shadowing.approval"
KIND_REQUEST = "shadowing.request"
KIND_HOSTING = "shadowing.hosting"
KIND_PLACEMENT = "shadowing.placement"
KIND_COORDINATION = "shadowing.coordination"
