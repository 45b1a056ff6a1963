"""Settings-level pieces of the REST framework (imported by DRF itself while it loads, so kept apart from
the viewset base in ``coordinator.api`` to avoid an import cycle)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import IO, Any, TypeVar

from django.core.exceptions import EmptyResultSet
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.paginator import EmptyPage, Page, PageNotAnInteger
from django.core.paginator import Paginator as DjangoPaginator
from django.db import IntegrityError
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Expression, IntegerField, Model, QuerySet
from django.db.models.expressions import BaseExpression
from django.db.models.query import ValuesListIterable
from django.db.models.sql.compiler import SQLCompiler
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, serializers, status
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import JSONParser as DRFJSONParser
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from coordinator.core.exceptions import Conflict
from coordinator.core.shapes import ShapedRows
from coordinator.core.spreadsheets import XLSX_CONTENT_TYPE
from coordinator.core.validators import parse_int

_Rows = TypeVar("_Rows", bound="QuerySet[Model, object]")


class JSONParser(DRFJSONParser):
    """DRF's JSON parser, answering a body nested deeper than the parser can follow with a 400 as it answers
    any other malformed JSON (the standard library's parser then raises ``RecursionError``)."""

    def parse(
        self,
        stream: IO[bytes],
        media_type: str | None = None,
        parser_context: Mapping[str, object] | None = None,
    ) -> dict[str, object]:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise exceptions.ParseError(_("JSON parse error - nested too deeply.")) from exc


class RowsInList(Expression):
    """``COUNT(*) OVER ()``: how many rows the whole list has, beside each row of a page. The same number as
    ``Window(Count("pk"))``, written as the SQL it compiles to, so that no aggregate and window expression
    is resolved against the query on every request (about a twentieth of a small list's processor time)."""

    # A window function: never grouped by, never in a WHERE (Django filters on it as on any window).
    contains_over_clause = True
    output_field = IntegerField()

    def as_sql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper) -> tuple[str, tuple[()]]:
        return "COUNT(*) OVER ()", ()

    def get_group_by_cols(self) -> list[BaseExpression]:
        return []


class CountingPaginator(DjangoPaginator):  # type: ignore[type-arg]
    """Django's paginator that reads the first page and the total number of rows in one query (``COUNT(*)
    OVER ()`` beside each row) instead of a ``COUNT`` query and then the page; later pages count first. A
    ``DISTINCT`` queryset (the window would count rows before duplicates are removed) or a plain list is
    paginated the usual way."""

    def page(self, number: int | str) -> Page[object]:
        rows = self.object_list
        if isinstance(rows, ShapedRows):
            # A first page compiled once for its request's shape (``coordinator.core.shapes``).
            number = self.validate_number_without_count(number)
            shaped = rows.read((number - 1) * self.per_page, self.per_page)
            self.__dict__["count"] = shaped[0]._rows_in_list if shaped else 0  # type: ignore[attr-defined]
            if not shaped and not self.allow_empty_first_page:
                number = self.validate_number(number)
            return Page(shaped, number, self)
        if not isinstance(rows, QuerySet) or rows.query.distinct or rows.query.is_sliced:
            return super().page(number)
        number = self.validate_number_without_count(number)
        if number > 1:
            # Later pages count first: an offset far past the end must be refused before it reaches the
            # database (which refuses an offset it cannot represent).
            return super().page(number)
        bottom = (number - 1) * self.per_page
        page_rows = list(_counted(rows)[bottom : bottom + self.per_page])
        if page_rows:
            self.__dict__["count"] = page_rows[0]._rows_in_list
        elif not self.allow_empty_first_page:
            number = self.validate_number(number)  # counts, and refuses an empty first page
        else:
            self.__dict__["count"] = 0
        return Page(page_rows, number, self)

    def validate_number_without_count(self, number: int | str) -> int:
        try:
            value = int(number)
        except (TypeError, ValueError) as exc:
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from exc
        if value < 1:
            raise EmptyPage(self.error_messages["min_page"])
        return value


def _counted(rows: _Rows) -> _Rows:
    """``rows`` with the list's total beside each row (``RowsInList``).

    A page read as values (a list's plan) is read from a derived table: an always true filter on the
    count makes Django wrap the query (its QUALIFY), and PostgreSQL then plans the list's joins for all
    of its rows, which the count reads anyway, instead of for the first rows of a LIMIT, a search several
    times as costly (the people list, seven tables: 0.7 instead of 2.6 ms of planning on every request;
    bench/README.md, "Planning a page"). Where Django needs a mask over the derived table (an ordering
    by a column not selected), it is not used: Django 5.2's mask drops a column the values select twice.
    """
    counted = rows.annotate(_rows_in_list=RowsInList())
    if not issubclass(rows._iterable_class, ValuesListIterable):
        return counted
    derived = counted.filter(_rows_in_list__gt=0)
    compiler = derived.query.get_compiler(derived.db)
    try:
        sql, _params = compiler.as_sql()
    except EmptyResultSet:
        return counted
    if compiler.connection.ops.quote_name("qualify_mask") in sql:
        return counted
    return derived


class Pagination(PageNumberPagination):
    """Pages of 50 (``page_size`` up to 200). A ``page`` or ``page_size`` that is not a whole number from 1
    up, inside what the database can count, is refused with 400; a page past the last answers 404."""

    django_paginator_class = CountingPaginator
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def _positive(self, request: Request, name: str) -> int | None:
        raw = request.query_params.get(name)
        if not raw:
            return None
        number = parse_int(raw)
        if number is None or number < 1:
            raise exceptions.ValidationError({name: [_("Give a whole number from 1 up.")]})
        return number

    def get_page_number(self, request: Request, paginator: DjangoPaginator[object]) -> int | str:
        if request.query_params.get(self.page_query_param) in self.last_page_strings:
            return super().get_page_number(request, paginator)
        return self._positive(request, self.page_query_param) or 1

    def get_page_size(self, request: Request) -> int | None:
        size = self._positive(request, self.page_size_query_param)
        return min(size, self.max_page_size) if size is not None else self.page_size


class ConflictResponse(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = _("This conflicts with the current state; reload and try again.")
    default_code = "conflict"


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, plus: service ValidationErrors become 400 with field messages, PermissionDenied 403,
    and a ``Conflict`` (or a database integrity conflict) 409 with its messages, never a 500."""
    # DRF's views module reads this module's classes through its settings while it loads: imported here.
    from rest_framework.views import exception_handler as drf_exception_handler

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
    # Imported here: rest_framework.views reads the settings that name this module while it loads, so a
    # module-level import fails whenever DRF's system check is the first to import this module.

    return drf_exception_handler(exc, context)


class FileRenderer(BaseRenderer):
    """Lets ``?format=csv|xlsx`` (or the matching ``Accept``) through content negotiation for a view that
    answers with the file itself. Only errors reach the renderer: one line per reason."""

    charset = "utf-8"

    def render(
        self, data: object, accepted_media_type: str | None = None, renderer_context: object = None
    ) -> bytes:
        if isinstance(data, bytes):
            return data
        if isinstance(data, dict):
            lines = (
                f"{key}: {'; '.join(map(str, value)) if isinstance(value, list) else value}"
                for key, value in data.items()
            )
            return "\n".join(lines).encode()
        return str(data).encode()


class CSVRenderer(FileRenderer):
    media_type = "text/csv"
    format = "csv"


class XLSXRenderer(FileRenderer):
    media_type = XLSX_CONTENT_TYPE
    format = "xlsx"
    charset = None  # type: ignore[assignment]  # a binary file has no text encoding


class ContentNegotiation(DefaultContentNegotiation):
    """DRF's negotiation, but an unknown ``?format=`` is an input error (400 naming the formats the
    endpoint offers), not a 404 that would say the address does not exist. An unknown format *suffix* in
    the path (``/people/1.pdf/``, or ``/people/0.0001/``, which the router reads as id 0 in format
    ``0001``) stays a 404: that address does not exist."""

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        renderers = list(renderers)
        try:
            return super().select_renderer(request, renderers, format_suffix)  # type: ignore[no-any-return]
        except Http404:
            if format_suffix:
                raise
            offered = ", ".join(sorted({str(renderer.format) for renderer in renderers}))
            raise exceptions.ValidationError(
                {"format": [_("Unknown format; this address offers: %(formats)s.") % {"formats": offered}]}
            ) from None
