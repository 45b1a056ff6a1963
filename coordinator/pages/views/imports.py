"""Spreadsheet imports on pages: people (with the export of the same columns) and, through the registry,
each feature's history. Upload, see every row's outcome and errors (a dry run), then import the same file
with one more click; the file waits in the session between the two steps, named by its digest."""

from __future__ import annotations

import base64
import hashlib
from abc import ABCMeta, abstractmethod

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import TemplateView

from coordinator.core import registry
from coordinator.core.spreadsheets import MAX_BYTES, Column, ImportReport
from organisations.access.views import ProgrammeMixin
from organisations.api import people_file
from organisations.services import people_export, people_import

# A file kept for the second step lives in the session; larger files go through the API.
SESSION_LIMIT = 5 * 1024 * 1024


class UploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("Spreadsheet (CSV or XLSX)"))


class PeopleUploadForm(UploadForm):
    invite = forms.BooleanField(
        label=gettext_lazy("Invite the people created once the import is saved"), required=False
    )


class ImportsView(ProgrammeMixin, TemplateView):
    """What the signed-in person may import: people, and each feature's history."""

    template_name = "coordinator/imports.html"

    def get_context_data(self, **kwargs: object) -> dict[str, object]:
        context = super().get_context_data(**kwargs)
        context["people"] = people_import.can_import_people(self.actor, self.programme)
        context["importers"] = [
            importer
            for importer in registry.history_importers
            if importer.allowed(self.actor, self.programme)
        ]
        if not context["people"] and not context["importers"]:
            raise PermissionDenied(_("Your roles in this programme do not include this page."))
        return context


class _ImportPage(ProgrammeMixin, TemplateView, metaclass=ABCMeta):
    """Upload, check (a dry run shown row by row) and import: each import page says what it imports."""

    template_name = "coordinator/import.html"
    form_class: type[UploadForm] = UploadForm

    @abstractmethod
    def session_key(self) -> str:
        """Where the checked file waits in the session between the dry run and the import."""

    @abstractmethod
    def allowed(self) -> bool:
        """Whether the signed-in person may use this import in the current programme."""

    @abstractmethod
    def columns(self) -> list[Column]:
        """The spreadsheet's columns, shown as help on the page."""

    @abstractmethod
    def run(self, data: bytes, *, dry_run: bool, invite: bool) -> ImportReport:
        """Check (``dry_run``) or import the file, all or nothing."""

    def get(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        self.check()
        return self.render_to_response(self.get_context_data(form=self.form_class()))

    def check(self) -> None:
        if not self.allowed():
            raise PermissionDenied(_("Your roles in this programme do not include this page."))

    def get_context_data(self, **kwargs: object) -> dict[str, object]:
        context = super().get_context_data(**kwargs)
        context["columns"] = [
            {"label": str(column.label), "required": column.required} for column in self.columns()
        ]
        return context

    def post(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        self.check()
        key = self.session_key()
        if "digest" in request.POST:
            return self.commit(request, key)
        form = self.form_class(request.POST, request.FILES)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        data = form.cleaned_data["file"].read(MAX_BYTES + 1)
        invite = bool(form.cleaned_data.get("invite"))
        try:
            report = self.run(data, dry_run=True, invite=invite)
        except ValidationError as error:
            form.add_error("file", " ".join(error.messages))
            return self.render_to_response(self.get_context_data(form=form), status=400)
        digest = hashlib.sha256(data).hexdigest()
        if report.ok and len(data) <= SESSION_LIMIT:
            request.session[key] = {
                "digest": digest,
                "invite": invite,
                "data": base64.b64encode(data).decode("ascii"),
            }
        else:
            request.session.pop(key, None)
        return self.render_to_response(
            self.get_context_data(form=self.form_class(), report=report, digest=digest, invite=invite),
            status=200 if report.ok else 400,
        )

    def commit(self, request: HttpRequest, key: str) -> HttpResponse:
        kept = request.session.get(key)
        if not kept or kept.get("digest") != request.POST.get("digest"):
            messages.error(request, _("Upload the file again: the checked file is no longer at hand."))
            return redirect(request.path)
        data = base64.b64decode(kept["data"])
        try:
            report = self.run(data, dry_run=False, invite=bool(kept.get("invite")))
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect(request.path)
        request.session.pop(key, None)
        if report.committed:
            counts = report.counts()
            messages.success(
                request,
                _("Imported: %(create)s new, %(update)s updated, %(unchanged)s unchanged.") % counts,
            )
        return self.render_to_response(
            self.get_context_data(form=self.form_class(), report=report), status=200 if report.ok else 400
        )


class PeopleImportView(_ImportPage):
    """Import people from a spreadsheet; export them in the same columns."""

    form_class = PeopleUploadForm

    def session_key(self) -> str:
        return f"import:people:{self.programme.pk}"

    def allowed(self) -> bool:
        return people_import.can_import_people(self.actor, self.programme)

    def columns(self) -> list[Column]:
        return people_import.COLUMNS

    def run(self, data: bytes, *, dry_run: bool, invite: bool) -> ImportReport:
        return people_import.people_import(
            actor=self.actor, programme=self.programme, data=data, dry_run=dry_run, invite=invite
        )

    def get_context_data(self, **kwargs: object) -> dict[str, object]:
        context = super().get_context_data(**kwargs)
        context.update(
            title=_("Import people"),
            description=_(
                "One row per person. Line managers are named by email and may be further down the same file. "
                "Units are written as a path, as in Malmö stad / sfi. Nothing is saved until you have seen "
                "every row's outcome and chosen to import."
            ),
            export=True,
        )
        return context


class PeopleExportView(ProgrammeMixin, TemplateView):
    """The people the signed-in person may import, as CSV or XLSX, in the import's columns."""

    def get(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        kind = request.GET.get("format", "csv")
        if kind not in {"csv", "xlsx"}:
            raise Http404
        headers, rows = people_export.people_export_rows(actor=self.actor, programme=self.programme)
        return people_file(headers, rows, kind=kind, name=self.programme.slug)


class HistoryImportView(_ImportPage):
    """One feature's history import, found in the registry by its key."""

    def importer(self) -> registry.HistoryImporter:
        found = registry.history_importers.get(str(self.kwargs["key"]))
        if found is None:
            raise Http404
        return found

    def session_key(self) -> str:
        return f"import:{self.importer().key}:{self.programme.pk}"

    def allowed(self) -> bool:
        return bool(self.importer().allowed(self.actor, self.programme))

    def columns(self) -> list[Column]:
        return list(self.importer().columns)

    def run(self, data: bytes, *, dry_run: bool, invite: bool) -> ImportReport:
        report: ImportReport = self.importer().run(
            actor=self.actor, programme=self.programme, data=data, dry_run=dry_run
        )
        return report

    def get_context_data(self, **kwargs: object) -> dict[str, object]:
        context = super().get_context_data(**kwargs)
        importer = self.importer()
        context.update(title=importer.label, description=importer.description, export=False)
        return context
