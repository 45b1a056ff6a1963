"""Pages about the programme's organisations and their units and staff."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Prefetch, QuerySet
from django.views.generic import TemplateView

from organisations.access.views import ProgrammeMixin
from organisations.models import Organisation, Unit
from organisations.permissions import can_edit_organisation, sees_contacts_in
from organisations.selectors import members_of


class OrganisationListView(ProgrammeMixin, TemplateView):
    template_name = "organisations/organisation_list.html"
    model = Organisation

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return (
            queryset.filter(participations__programme=self.programme)
            .prefetch_related(Prefetch("units", queryset=Unit.objects.order_by("name")))
            .order_by("name")
        )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        counts = dict(
            members_of(self.programme).values_list("organisation").annotate(n=Count("pk")).order_by()
        )
        organisations = list(self.get_queryset())
        for organisation in organisations:
            organisation.member_count = counts.get(organisation.pk, 0)
        context["organisations"] = organisations
        return context


class OrganisationDetailView(ProgrammeMixin, TemplateView):
    template_name = "organisations/organisation_detail.html"
    model = Organisation

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(participations__programme=self.programme)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        organisation: Organisation = self.get_object_or_404(pk=kwargs["pk"])
        people = (
            members_of(self.programme)
            .filter(organisation=organisation)
            .select_related("unit", "line_manager__user")
            .order_by("unit__name", "user__last_name", "user__first_name")
        )
        context.update(
            organisation=organisation,
            units=Unit.objects.filter(organisation=organisation).select_related("parent").order_by("name"),
            people=people,
            show_contacts=sees_contacts_in(self.actor, self.programme, organisation.pk),
            can_edit=can_edit_organisation(self.actor, organisation),
        )
        return context
