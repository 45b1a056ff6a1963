"""Line managers: requests waiting for their decision, and approving or declining one."""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from coordinator.core import formatting, frames
from coordinator.core.content import Fragment, Recent, gap
from coordinator.core.validators import parse_int
from coordinator.core.views import SERVICE_ERRORS, error_text, next_url
from organisations.access.views import ProgrammeMixin
from shadowing import forms, permissions, selectors
from shadowing.models import ShadowingRequest
from shadowing.services import shadowing_requests
from shadowing.views._common import RequestScoped

# --- Line managers --------------------------------------------------------------------------------------


CARD_TEMPLATE = "shadowing/includes/approval_card.html"
PAGER_TEMPLATE = "shadowing/includes/approvals_pager.html"
DECIDED_TEMPLATE = "shadowing/includes/approvals_decided.html"
# A card as written for one request's facts, language and page, with a gap for the CSRF token: the cards of
# the managers of a process, in the languages they read.
CARDS = Recent(1024)


class ApprovalsView(ProgrammeMixin, TemplateView):
    """The requests waiting for my decision, with a form for each: the page's frame kept per shape
    (``coordinator.core.frames``), each card kept as written until what it shows changes."""

    template_name = "shadowing/approvals.html"
    model = ShadowingRequest

    def get(self, request: HttpRequest, *args: object, **kwargs: object) -> TemplateResponse:
        context = self.get_context_data(**kwargs)
        return frames.respond(
            request, self.template_name, context, live=("cards", "pager", "decided_list"), shape=()
        )

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        mine = permissions.decidable_requests_filter(self.actor, self.programme.pk)
        return queryset.filter(mine).exclude(requester=self.person)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        # Everything the waiting requests' query depends on besides the scope: the actor's rights here.
        key = (self.programme.pk, permissions.decidable_requests_filter(self.actor, self.programme.pk))
        cards, total, number = selectors.approval_page(self.get_queryset, key, _page_number(self.request))
        paginator = Paginator(cards, selectors.APPROVALS_PAGE_SIZE)
        paginator.__dict__["count"] = total  # counted with the page
        page = Page(cards, number, paginator)
        decided = selectors.decided_requests(self.get_queryset, key, self.person)
        # Back to the same page after a decision (the first page has no number in its address).
        here = self.request.path if number == 1 else f"{self.request.path}?page={number}"
        pager = render_to_string(PAGER_TEMPLATE, {"page": page}) if page.has_other_pages() else ""
        decided_list = render_to_string(DECIDED_TEMPLATE, {"decided": decided}) if decided else ""
        context.update(
            cards=_written(self.request, _shown(cards), here),
            pager=mark_safe(pager),  # noqa: S308 - rendered by our template
            decided_list=mark_safe(decided_list),  # noqa: S308 - as above
            page=page,
        )
        return context


_SOME_KEY = 987654321  # stands for a request's key in an address built once per page


def _shown(
    cards: list[selectors.ApprovalCard],
) -> list[tuple[selectors.ApprovalCard, list[tuple[str, str]], str, str]]:
    """Each card with its windows as written and the addresses of its two forms. Requests of one team
    mostly share their windows, so each window is written once per page (writing a date is the costliest
    part of a card), and each address is the reversed pattern with the key put in."""
    approve = reverse("shadowing:request-approve", args=[_SOME_KEY])
    decline = reverse("shadowing:request-decline", args=[_SOME_KEY])
    written: dict[tuple[date, date], tuple[str, str]] = {}
    shown = []
    for card in cards:
        windows = []
        for window in card.windows:
            if window not in written:
                written[window] = (formatting.day_month(window[0]), formatting.day(window[1]))
            windows.append(written[window])
        key = str(card.pk)
        shown.append(
            (card, windows, approve.replace(str(_SOME_KEY), key), decline.replace(str(_SOME_KEY), key))
        )
    return shown


def _written(
    request: HttpRequest,
    shown: list[tuple[selectors.ApprovalCard, list[tuple[str, str]], str, str]],
    here: str,
) -> SafeString:
    """The cards as the page writes them, each kept by everything it shows (the request's facts, the
    windows as written, the forms' addresses, the page to come back to, the language) with the request's
    one CSRF token filled in."""
    token = str(frames.token(request))
    language = get_language()
    parts: list[str] = []
    for card, windows, approve_url, decline_url in shown:
        context = {"r": card, "windows": windows, "approve_url": approve_url, "decline_url": decline_url}
        if token == frames.NO_TOKEN:  # the forms without a token, as the tag writes them
            parts.append(render_to_string(CARD_TEMPLATE, {**context, "here": here, frames.TOKEN: token}))
            continue
        key = repr((language, card, windows, approve_url, decline_url, here))
        fragment = CARDS.get(key)
        if not isinstance(fragment, Fragment):
            written = {**context, "here": here, frames.TOKEN: gap(frames.TOKEN)}
            fragment = Fragment.render(CARD_TEMPLATE, written)
            CARDS.put(key, fragment)
        parts.append(fragment.fill({frames.TOKEN: token}))
    return mark_safe("".join(parts))  # noqa: S308 - rendered by our template


def _page_number(request: HttpRequest) -> int:
    """The page asked for; the first for anything but a whole number from 1 up."""
    number = parse_int(request.GET.get("page") or "1")
    return number if number is not None and number >= 1 else 1


class RequestDecisionView(RequestScoped, View):
    approve: ClassVar[bool] = True

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        shadowing_request: ShadowingRequest = self.get_object_or_404(pk=pk)
        form = forms.DecisionNoteForm(request.POST)
        note = form.cleaned_data["note"] if form.is_valid() else ""
        if not form.is_valid():
            messages.error(request, error_text(ValidationError(list(form.errors.get("note", [])))))
            return redirect(next_url(request, reverse("shadowing:approvals")))
        try:
            if self.approve:
                shadowing_requests.request_approve(actor=self.actor, request=shadowing_request, note=note)
            else:
                shadowing_requests.request_decline(actor=self.actor, request=shadowing_request, note=note)
        except SERVICE_ERRORS as error:
            messages.error(request, error_text(error))
        else:
            messages.success(
                request,
                (
                    _("%(person)s's request is approved and goes to matching.")
                    if self.approve
                    else _("%(person)s's request is declined; they are told.")
                )
                % {"person": shadowing_request.requester.full_name},
            )
        return redirect(next_url(request, reverse("shadowing:approvals")))


class RequestApproveView(RequestDecisionView):
    approve = True


class RequestDeclineView(RequestDecisionView):
    approve = False
