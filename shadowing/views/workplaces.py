"""Pages every member of the programme sees: the published workplaces and one workplace."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.utils import formats, timezone
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from coordinator.core import content, frames
from coordinator.core.content import Fragment, gap
from organisations.access.views import ProgrammeMixin
from organisations.models import Programme
from shadowing import forms, permissions, selectors
from shadowing.models import Slot, Workplace

# --- Everyone: published workplaces ---------------------------------------------------------------------


TEMPLATES = (
    "shadowing/workplaces/card.html",
    "shadowing/workplaces/ask.html",
    "shadowing/workplaces/edit.html",
    "shadowing/workplaces/filter.html",
    "shadowing/includes/field.html",
    "includes/field.html",
)


@dataclass(frozen=True)
class Card:
    """A published workplace's card as every viewer sees it, with what the filter asks of it."""

    pk: int
    organisation_id: int
    topic_ids: frozenset[int]
    languages: tuple[str, ...]
    body: Fragment  # gaps: free, first, edit
    ask: str
    edit: str


@dataclass(frozen=True)
class Content:
    cards: tuple[Card, ...]
    organisations: list[tuple[int, str]]
    topics: list[tuple[int, str]]
    fields: str  # the filter's fields as they stand before anything is chosen


def _build(programme: Programme) -> Content:
    cards = []
    live = {"free": gap("free"), "first": gap("first"), "edit": gap("edit")}
    for workplace in selectors.published_workplaces(programme):
        context = {"workplace": workplace}
        cards.append(
            Card(
                workplace.pk,
                workplace.organisation_id,
                frozenset(t.pk for t in workplace.topics.all()),
                tuple(workplace.languages or ()),
                Fragment.render(TEMPLATES[0], {**context, **live}),
                Fragment.render(TEMPLATES[1], context).fill({}),
                Fragment.render(TEMPLATES[2], context).fill({}),
            )
        )
    organisations, topics = selectors.filter_choices(programme)
    form = forms.WorkplaceFilterForm(organisations=organisations, topics=topics)
    fields = render_to_string(TEMPLATES[3], {"form": form})
    return Content(tuple(cards), organisations, topics, fields)


@lru_cache(maxsize=1024)
def _free_days(language: str | None, count: int) -> str:
    """A card's free days as the active language writes them (the language is in the key, so that one
    language's text is never another's)."""
    text = ngettext(
        "%(counter)s coming slot with a free place", "%(counter)s coming slots with a free place", count
    ) % {"counter": formats.localize(count)}
    return escape(text)


class WorkplaceListView(ProgrammeMixin, TemplateView):
    """Published workplaces, filtered by organisation, topic or language: the cards and the filter's choices
    from the cache (written once per programme, language and content stamp), the free days, the viewer's
    own organisation and rights on every request."""

    template_name = "shadowing/workplaces.html"
    model = Workplace

    def get(self, request: HttpRequest, *args: object, **kwargs: object) -> TemplateResponse:
        context = self.get_context_data(**kwargs)
        return frames.respond(request, self.template_name, context, live=("fields", "cards"), shape=())

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        version, free = selectors.free_slot_counts(self.programme, timezone.localdate())
        entry: Content = content.cached(
            "workplaces", self.programme.pk, version, TEMPLATES, lambda: _build(self.programme)
        )
        cards: Iterable[Card] = entry.cards
        form: forms.WorkplaceFilterForm | None = None
        # Most visits choose nothing: the fields then come written from the cache.
        fields = entry.fields
        if self.request.GET:
            form = forms.WorkplaceFilterForm(
                self.request.GET, organisations=entry.organisations, topics=entry.topics
            )
            if form.is_valid():
                organisation, topic = form.cleaned_data["organisation"], form.cleaned_data["topic"]
                language = form.cleaned_data["language"]
                cards = [
                    card
                    for card in cards
                    if (organisation is None or card.organisation_id == organisation)
                    and (topic is None or topic in card.topic_ids)
                    and (not language or language in card.languages)
                ]
            fields = render_to_string(TEMPLATES[3], {"form": form})
        own_organisation_id = self.actor.organisation_id
        can_request = permissions.can_request(self.actor, self.programme)
        # Whether the reader opens workplaces of their own organisation: the only part of the rule that
        # depends on the card is the organisation.
        can_edit_own = permissions.can_create_workplace(
            self.actor, self.programme.pk, own_organisation_id or 0
        )
        own = format_html('<span class="tag">{}</span>\n    ', _("Your own organisation"))
        language_code = get_language()
        html = []
        for card in cards:
            mine = card.organisation_id == own_organisation_id
            first = own if mine else (card.ask if can_request else "")
            html.append(
                card.body.fill(
                    {
                        "free": _free_days(language_code, free.get(card.pk, 0)),
                        "first": first,
                        "edit": card.edit if mine and can_edit_own else "",
                    }
                )
            )
        context.update(
            form=form,
            fields=mark_safe(fields),  # noqa: S308 - rendered with autoescape
            cards=mark_safe("".join(html)),  # noqa: S308 - fragments rendered with autoescape
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
