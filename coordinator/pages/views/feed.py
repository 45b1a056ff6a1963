"""A person's private calendar subscription feed, identified by its secret token."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import datetime

from django.core.cache import cache
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from coordinator.core import itip, registry
from coordinator.core.calendar import CalendarEvent, build_calendar
from coordinator.core.tenancy import programme_scope, unscoped
from organisations.models import Person, calendar_token_digest
from organisations.permissions import actor_for

# How long a built feed stays in the cache; its key changes whenever its content would.
FEED_CACHE_SECONDS = 24 * 3600


@require_http_methods(["GET", "HEAD"])
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """A person's private subscription feed: their confirmed sessions, visits and meetings.

    Public by design (calendar clients cannot sign in): the secret token identifies the person. An unknown
    or rotated token answers the same 404 as any missing page. The feed is then built inside the person's
    own scope, so it can hold nothing from programmes they do not belong to.
    """
    if len(token) > 64:
        raise Http404
    # The database holds only a digest of each token, so the presented token is hashed and looked up by
    # its digest (a unique index): the same work for every token, known or not.
    digest = calendar_token_digest(token)
    with unscoped():  # identifying the person by their secret is what decides the scope
        # With the organisation and unit the actor needs: ``actor_for`` then takes this row as it is
        # instead of reading the person again.
        person = (
            Person.unscoped_objects.select_related("user", "organisation", "unit")
            .filter(Q(calendar_token_hash=digest) | Q(legacy_calendar_token_hash=digest))
            .first()
        )
        if person is None or not person.user.is_active:
            raise Http404
    actor = actor_for(person.user)
    with programme_scope(actor.programme_ids):
        events: list[CalendarEvent] = []
        for provider in registry.calendar_providers:
            events.extend(provider(person))
        sent = itip.feed_state(person)
    # The zone of the person's first programme by name; the actor read the programmes with the memberships.
    programme = min(actor.programmes.values(), key=lambda p: (p.name, p.pk), default=None)
    # The feed and the invites agree on each event's SEQUENCE and on when it last changed (a new address
    # of a workplace changes the event, not the placement row the provider reads).
    events = [_as_sent(event, sent.get(event.uid)) for event in events]
    changes = [e.last_modified for e in events if e.last_modified]
    changes.extend(changed_at for _sequence, changed_at in sent.values())  # cancellations count too
    last_modified = int(max(changes).timestamp()) if changes else None
    time_zone = programme.time_zone if programme else "Europe/Stockholm"
    events.sort(key=lambda event: (event.start, event.uid))
    name = _("Samverkan – %(name)s") % {"name": person.full_name}
    # Building the iCalendar text is most of the work, so the built feed is cached under a fingerprint of
    # everything that goes into it: a change to any event gives a new key (never a stale feed), and the
    # fingerprint is the ETag, so a client that has the current feed gets a 304 without any building.
    fingerprint = hashlib.sha256(repr((time_zone, name, events)).encode()).hexdigest()[:32]
    etag = f'"{fingerprint}"'
    # RFC 9110 13.1.2: weak comparison, a list of tags or "*"; If-Modified-Since when no tag is sent.
    not_modified = get_conditional_response(request, etag=etag, last_modified=last_modified)
    if not_modified is not None:
        not_modified["ETag"] = etag
        return not_modified
    cache_key = f"calendar-feed:{fingerprint}"
    body = cache.get(cache_key)
    if body is None:
        body = build_calendar(events, time_zone=time_zone, name=name)
        cache.set(cache_key, body, timeout=FEED_CACHE_SECONDS)
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["ETag"] = etag
    response["Cache-Control"] = "private, max-age=300"
    response["Content-Disposition"] = 'inline; filename="samverkan.ics"'
    if last_modified is not None:
        response["Last-Modified"] = http_date(last_modified)
    if request.method == "HEAD":
        response["Content-Length"] = str(len(body))
        response.content = b""
    return response


def _as_sent(event: CalendarEvent, sent: tuple[int, datetime] | None) -> CalendarEvent:
    if sent is None:
        return event
    sequence, changed_at = sent
    last = max(event.last_modified, changed_at) if event.last_modified else changed_at
    return replace(event, sequence=max(event.sequence, sequence), last_modified=last)
