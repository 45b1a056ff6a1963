"""Settings-level pieces of the REST framework (imported by DRF itself while it loads, so kept apart from
the viewset base in ``coordinator.api`` to avoid an import cycle)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, serializers, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from coordinator.core.exceptions import Conflict


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class ConflictResponse(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("This conflicts with the current state; reload and try again.")
    default_code = "conflict"


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus: service ValidationErrors become 400 with field messages, PermissionDenied 403,
    and a ``Conflict`` (or a database integrity conflict) 409 with its messages, never a 500."""
    if isinstance(exc, Http404):
        # One body for every missing object, whatever the model: a foreign object looks exactly the same.
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=serializers.as_serializer_error(exc))
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(detail=str(exc) or None)
    elif isinstance(exc, Conflict):
        exc = ConflictResponse(detail=exc.messages)
    elif isinstance(exc, IntegrityError):
        exc = ConflictResponse()
    return drf_exception_handler(exc, context)
