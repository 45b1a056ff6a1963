"""Competence pages: the programme's competences and profiles (admins), a person's competences (the
person, their line manager, the coordinators), a line manager's team, and the gap tables with their
heat maps and spreadsheet downloads."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.generic import FormView, TemplateView, View

from coordinator.core.spreadsheets import XLSX_CONTENT_TYPE, write_csv, write_xlsx
from coordinator.core.validators import parse_int
from coordinator.core.views import SERVICE_ERRORS, ServiceFormMixin, error_text
from organisations import forms, permissions
from organisations.access.views import ProgrammeMixin
from organisations.models import Competence, Organisation, Person, PlatformRole, WorkRole
from organisations.selectors import competence as selectors
from organisations.selectors import gaps
from organisations.services import competence as services
from organisations.services import programmes

ADMINS = frozenset({PlatformRole.PROGRAMME_ADMIN})


class CompetenceListView(ProgrammeMixin, TemplateView):
    """The programme's competences, what gives each, the profiles of its roles at work, and whether the
    matcher weighs gaps (programme admins)."""

    template_name = "organisations/competences.html"
    required_roles = ADMINS

    def get_context_data(self, **kwargs: object) -> dict[str, object]:
        context = super().get_context_data(**kwargs)
        competences = selectors.competences_of(self.programme)
        labels = selectors.source_labels(self.programme, competences)
        roles = list(
            WorkRole.objects.filter(programme=self.programme)
            .annotate(profile_size=Count("profile_competences"))
            .order_by("name", "pk")
        )
        context.update(
            competences=[(c, [labels.get(s, s[1]) for s in c.sources]) for c in competences],
            roles=roles,
            matching_form=forms.GapMatchingForm(
                initial={"matching_closes_gaps": self.programme.matching_closes_gaps}
            ),
        )
        return context

    def post(self, request: HttpRequest) -> HttpResponse:
        form = forms.GapMatchingForm(request.POST)
        if form.is_valid():
            try:
                programmes.programme_update(
                    actor=self.actor,
                    programme=self.programme,
                    values={"matching_closes_gaps": form.cleaned_data["matching_closes_gaps"]},
                )
            except SERVICE_ERRORS as exc:
                messages.error(request, error_text(exc))
            else:
                messages.success(request, _("Saved."))
        return HttpResponseRedirect(reverse("organisations:competences"))


class _CompetenceFormView(ProgrammeMixin, ServiceFormMixin, FormView):  # type: ignore[type-arg]
    template_name = "organisations/form.html"
    form_class = forms.CompetenceForm
    required_roles = ADMINS

    def get_form_kwargs(self) -> dict[str, object]:
        kwargs = super().get_form_kwargs()
        kwargs["programme"] = self.programme
        return kwargs

    def get_context_data(self, **kwargs: object) -> dict[str, object]:
        context = super().get_context_data(**kwargs)
        context["back_url"] = reverse("organisations:competences")
        return context


class CompetenceCreateView(_CompetenceFormView):
    page_title = gettext_lazy("New competence")

    def perform(self, form: forms.CompetenceForm) -> str:
        services.competence_create(
            actor=self.actor,
            programme=self.programme,
            name=form.cleaned_data["name"],
            description=form.cleaned_data["description"],
            manager_sign_off=form.cleaned_data["manager_sign_off"],
            sources=form.sources(),
        )
        return reverse("organisations:competences")


class CompetenceEditView(_CompetenceFormView):
    page_title = gettext_lazy("Competence")
    model = Competence
    competence: Competence

    def load(self, **kwargs: object) -> None:
        self.competence = self.get_object_or_404(pk=kwargs["pk"])

    def get_initial(self) -> dict[str, object]:
        chosen: dict[str, list[str]] = {}
        for kind, value in self.competence.sources.values_list("kind", "value"):
            chosen.setdefault(f"source_{kind}", []).append(value)
        return {
            "name": self.competence.name,
            "description": self.competence.description,
            "manager_sign_off": self.competence.manager_sign_off,
            **chosen,
        }

    def get_context_data(self, **kwargs: object) -> dict[str, object]:
        context = super().get_context_data(**kwargs)
        context["delete_url"] = reverse("organisations:competence-delete", args=[self.competence.pk])
        return context

    def perform(self, form: forms.CompetenceForm) -> str:
        services.competence_update(
            actor=self.actor,
            competence=self.competence,
            name=form.cleaned_data["name"],
            description=form.cleaned_data["description"],
            manager_sign_off=form.cleaned_data["manager_sign_off"],
            sources=form.sources(),
        )
        return reverse("organisations:competences")


class CompetenceDeleteView(ProgrammeMixin, View):
    model = Competence
    required_roles = ADMINS

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        competence = self.get_object_or_404(pk=pk)
        try:
            services.competence_delete(actor=self.actor, competence=competence)
        except SERVICE_ERRORS as exc:
            messages.error(request, error_text(exc))
        else:
            messages.success(request, _("The competence was removed."))
        return HttpResponseRedirect(reverse("organisations:competences"))


class RoleProfileView(ProgrammeMixin, ServiceFormMixin, FormView):  # type: ignore[type-arg]
    """A role at work's profile: which competences are basic and which professional (programme admins)."""

    template_name = "organisations/form.html"
    form_class = forms.RoleProfileForm
    model = WorkRole
    required_roles = ADMINS
    work_role: WorkRole

    def load(self, **kwargs: object) -> None:
        self.work_role = self.get_object_or_404(pk=kwargs["pk"])
        self.competences = list(
            Competence.objects.filter(programme=self.programme)
            .order_by("name", "pk")
            .values_list("pk", "name")
        )

    def get_form_kwargs(self) -> dict[str, object]:
        kwargs = super().get_form_kwargs()
        kwargs["competences"] = self.competences
        return kwargs

    def get_initial(self) -> dict[str, object]:
        return {
            f"c{cid}": level
            for cid, level in self.work_role.profile_competences.values_list("competence_id", "level")
        }

    def get_context_data(self, **kwargs: object) -> dict[str, object]:
        context = super().get_context_data(**kwargs)
        context["page_title"] = _("Profile of %(role)s") % {"role": self.work_role.name}
        context["back_url"] = reverse("organisations:competences")
        return context

    def perform(self, form: forms.RoleProfileForm) -> str:
        services.role_profile_set(actor=self.actor, work_role=self.work_role, levels=form.levels())
        return reverse("organisations:competences")


class PersonCompetenceView(ProgrammeMixin, ServiceFormMixin, FormView):  # type: ignore[type-arg]
    """A person's competences and gaps, with how to close them (the person, their line manager, the
    coordinators); the line manager confirms a competence gained elsewhere here."""

    template_name = "organisations/person_competences.html"
    form_class = forms.CompetenceConfirmForm
    model = Person
    submit_label = gettext_lazy("Confirm")
    success_message = gettext_lazy("The competence is confirmed.")
    subject: Person

    def narrow_queryset(self, queryset: QuerySet[Person]) -> QuerySet[Person]:
        return queryset.filter(memberships__programme=self.programme).select_related("user").distinct()

    def load(self, **kwargs: object) -> None:
        self.subject = self.get_object_or_404(pk=kwargs["pk"])
        # Someone who may not see the person's gaps learns nothing, not even that the person is here.
        if not permissions.can_see_competence_profile(self.actor, self.programme, self.subject):
            raise Http404
        self.can_confirm = permissions.can_confirm_competence(self.actor, self.programme, self.subject)
        if self.request.method == "POST" and not self.can_confirm:
            raise PermissionDenied(_("Only the person's line manager may confirm their competences."))
        self.confirmable = list(
            Competence.objects.filter(programme=self.programme, manager_sign_off=True)
            .order_by("name", "pk")
            .values_list("pk", "name")
        )

    def get_form_kwargs(self) -> dict[str, object]:
        kwargs = super().get_form_kwargs()
        kwargs["competences"] = self.confirmable
        return kwargs

    def get_context_data(self, **kwargs: object) -> dict[str, object]:
        context = super().get_context_data(**kwargs)
        context.update(
            profile=selectors.person_profile(self.programme, self.subject),
            subject=self.subject,
            can_confirm=self.can_confirm and bool(self.confirmable),
            page_title=_("Competences of %(name)s") % {"name": self.subject.full_name},
        )
        return context

    def perform(self, form: forms.CompetenceConfirmForm) -> str:
        competence = self.get_object_or_404(
            Competence.objects.filter(programme=self.programme), pk=form.cleaned_data["competence"]
        )
        services.competence_confirm(
            actor=self.actor,
            programme=self.programme,
            person=self.subject,
            competence=competence,
            gained_on=form.cleaned_data["gained_on"],
            note=form.cleaned_data["note"],
        )
        return reverse("organisations:person-competences", args=[self.subject.pk])


class TeamCompetenceView(ProgrammeMixin, TemplateView):
    """A line manager's team × competences: who has, who lacks."""

    template_name = "organisations/team_competences.html"

    def get_context_data(self, **kwargs: object) -> dict[str, object]:
        context = super().get_context_data(**kwargs)
        context["grid"] = gaps.team_grid(self.programme, self.person.pk)
        return context


def _heat_map_for(view: ProgrammeMixin, request: HttpRequest) -> tuple[gaps.HeatMap, Organisation | None]:
    raw = request.GET.get("organisation", "")
    organisation = None
    if raw:
        pk = parse_int(raw)
        organisation = (
            Organisation.objects.filter(pk=pk, participations__programme=view.programme).first()
            if pk is not None
            else None
        )
        if organisation is None:
            raise Http404
        if not permissions.can_see_organisation_gaps(view.actor, view.programme, organisation.pk):
            raise PermissionDenied(_("Your roles in this programme do not include this page."))
    elif not permissions.can_see_programme_gaps(view.actor, view.programme):
        if view.actor.organisation_id is not None and permissions.can_see_organisation_gaps(
            view.actor, view.programme, view.actor.organisation_id
        ):
            organisation = Organisation.objects.filter(
                pk=view.actor.organisation_id, participations__programme=view.programme
            ).first()
        if organisation is None:
            raise PermissionDenied(_("Your roles in this programme do not include this page."))
    return gaps.gap_heat_map(view.programme, organisation), organisation


class GapsView(ProgrammeMixin, TemplateView):
    """Gaps by organisation (or one organisation's units) as a heat map with the numbers in a table;
    groups under five people hidden. ``?format=csv|xlsx`` downloads the table."""

    template_name = "organisations/competence_gaps.html"

    def get(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        heat_map, organisation = _heat_map_for(self, request)
        kind = request.GET.get("format", "")
        if kind:
            if kind not in {"csv", "xlsx"}:
                raise Http404
            return gap_file(heat_map, kind=kind, name=self.programme.slug)
        context = self.get_context_data(**kwargs)
        can_see_all = permissions.can_see_programme_gaps(self.actor, self.programme)
        # Only the organisations whose units the viewer may open are offered or linked: an organisation
        # admin reads every organisation's row but only their own organisation by unit.
        organisations = (
            [
                (pk, name)
                for pk, name in Organisation.objects.filter(participations__programme=self.programme)
                .order_by("name")
                .values_list("pk", "name")
                if permissions.can_see_organisation_gaps(self.actor, self.programme, pk)
            ]
            if can_see_all
            else []
        )
        context.update(
            heat_map=heat_map,
            organisation=organisation,
            svg=heat_map_svg(heat_map),
            can_see_all=can_see_all,
            organisations=organisations,
            openable={pk for pk, _name in organisations},
            min_group=selectors.MIN_GROUP,
            is_manager=self.has_role(PlatformRole.LINE_MANAGER),
            can_define=permissions.can_define_competences(self.actor, self.programme),
        )
        return self.render_to_response(context)


def gap_rows(heat_map: gaps.HeatMap) -> tuple[list[str], list[list[object]]]:
    """The gap table as spreadsheet rows: per row and competence, people asked, lacking, share (a hidden
    group is an empty cell)."""
    headers = [heat_map.row_heading, _("Competence"), _("People asked"), _("Lacking"), _("Share lacking (%)")]
    rows: list[list[object]] = []

    def line(label: str, name: str, cell: gaps.Cell) -> list[object]:
        if cell.hidden:
            return [label, name, "", "", ""]
        return [label, name, cell.required, cell.lacking, cell.share if cell.share is not None else ""]

    for (_row, label), cells, _total in heat_map.table():
        rows.extend(line(label, c.name, cell) for c, cell in zip(heat_map.columns, cells, strict=True))
    rows.extend(
        line(_("All"), c.name, cell) for c, cell in zip(heat_map.columns, heat_map.totals(), strict=True)
    )
    return headers, rows


def gap_file(heat_map: gaps.HeatMap, *, kind: str, name: str) -> HttpResponse:
    headers, rows = gap_rows(heat_map)
    if kind == "xlsx":
        response = HttpResponse(write_xlsx(headers, rows, title=_("Gaps")), content_type=XLSX_CONTENT_TYPE)
    else:
        response = HttpResponse(write_csv(headers, rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="competence-gaps-{name}.{kind}"'
    return response


CELL_W, CELL_H, LABEL_W, HEAD_H = 44, 28, 180, 24


def heat_map_svg(heat_map: gaps.HeatMap) -> dict[str, object]:
    """Coordinates and colours of the heat map's squares (drawn by the template as SVG): darker is a larger
    share lacking; a hidden group is grey. Columns are numbered; the table names them."""
    squares = []
    for i, ((_row, label), cells, _total) in enumerate(heat_map.table()):
        for j, cell in enumerate(cells):
            share = cell.share
            if cell.hidden:
                fill, text = "#d0d0d0", "–"
            elif share is None:
                fill, text = "#ffffff", ""
            else:
                # from pale yellow (none lacking) to deep red (all lacking)
                fill = f"hsl({int(50 - 50 * share / 100)}, 85%, {int(92 - 52 * share / 100)}%)"
                text = f"{share}"
            squares.append(
                {
                    "x": LABEL_W + j * CELL_W,
                    "y": HEAD_H + i * CELL_H,
                    "fill": fill,
                    "text": text,
                    "dark": share is not None and share >= 60 and not cell.hidden,
                    "title": f"{label} – {heat_map.columns[j].name}: "
                    + (_("hidden (fewer than five people)") if cell.hidden else f"{text} %" if text else "–"),
                }
            )
    return {
        "width": LABEL_W + CELL_W * max(1, len(heat_map.columns)),
        "height": HEAD_H + CELL_H * max(1, len(heat_map.rows)),
        "cell_w": CELL_W,
        "cell_h": CELL_H,
        "squares": squares,
        "row_labels": [
            {"y": HEAD_H + i * CELL_H + CELL_H // 2 + 5, "label": label[:28]}
            for i, (_pk, label) in enumerate(heat_map.rows)
        ],
        "column_labels": [
            {"x": LABEL_W + j * CELL_W + CELL_W // 2, "label": str(j + 1)}
            for j in range(len(heat_map.columns))
        ],
    }
