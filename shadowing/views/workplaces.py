"""Pages every member of the programme sees: the published workplaces and one workplace."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, F, Prefetch, QuerySet
from django.utils import timezone
from django.views.generic import TemplateView

from organisations.access.views import ProgrammeMixin
from shadowing import forms, permissions
from shadowing.models import (
    Slot,
    Topic,
    Workplace,
)

# --- Everyone: published workplaces ---------------------------------------------------------------------


class WorkplaceListView(ProgrammeMixin, TemplateView):
    """Published workplaces, filtered by organisation, topic or language (a fixed number of queries)."""

    template_name = "shadowing/workplaces.html"
    model = Workplace

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        # Only the columns a card shows (its unit, contact and long texts stay in the database).
        return (
            queryset.filter(is_published=True)
            .select_related("organisation")
            .only(*self.CARD_FIELDS)
            .prefetch_related(Prefetch("topics", queryset=Topic.objects.only("pk", "name")))
            .order_by("organisation__name", "name", "pk")
        )

    CARD_FIELDS = (
        "pk",
        "programme_id",
        "organisation__name",
        "name",
        "street_address",
        "postal_code",
        "city",
        "description",
        "languages",
    )

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        form = forms.WorkplaceFilterForm(self.request.GET or None, programme=self.programme)
        workplaces = self.get_queryset()
        language = ""
        if form.is_bound and form.is_valid():
            if form.cleaned_data["organisation"]:
                workplaces = workplaces.filter(organisation=form.cleaned_data["organisation"])
            if form.cleaned_data["topic"]:
                workplaces = workplaces.filter(topics=form.cleaned_data["topic"])
            language = form.cleaned_data["language"]
        today = timezone.localdate()
        free = dict(
            Slot.objects.filter(workplace__in=workplaces, date__gte=today, booked__lt=F("capacity"))
            .values_list("workplace_id")
            .annotate(n=Count("pk"))
            .order_by()
        )
        rows = [w for w in workplaces if not language or language in (w.languages or [])]
        context.update(
            form=form,
            workplaces=[
                (
                    w,
                    free.get(w.pk, 0),
                    permissions.can_create_workplace(self.actor, w.programme_id, w.organisation_id),
                )
                for w in rows
            ],
            own_organisation_id=self.actor.organisation_id,
            can_request=permissions.can_request(self.actor, self.programme),
        )
        return context


class WorkplaceDetailView(ProgrammeMixin, TemplateView):
    template_name = "shadowing/workplace_detail.html"
    model = Workplace

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        queryset = queryset.select_related("organisation", "unit", "contact__user").prefetch_related("topics")
        if permissions.can_manage(self.actor, self.programme.pk):
            return queryset
        return queryset.filter(permissions.visible_workplaces_filter(self.actor))

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        workplace: Workplace = self.get_object_or_404(pk=kwargs["pk"])
        today = timezone.localdate()
        context.update(
            workplace=workplace,
            slots=list(
                Slot.objects.filter(workplace=workplace, date__gte=today).order_by("date", "starts_at")[:30]
            ),
            can_edit=permissions.can_edit_workplace(self.actor, workplace),
            can_request=permissions.can_request(self.actor, self.programme)
            and permissions.can_shadow_at(
                self.actor.organisation_id or 0,
                workplace.organisation_id,
                own_rule=self.programme.own_rule,
                requester_unit_id=self.person.unit_id if self.actor.person else None,
                host_unit_id=workplace.unit_id,
            ),
        )
        return context
