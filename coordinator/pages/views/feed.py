"""A person's private calendar subscription feed, identified by its secret token."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone, translation
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from coordinator.core import itip, personal, registry
from coordinator.core.calendar import CalendarEvent
from coordinator.core.feed_text import event_key, feed_text
from coordinator.core.prepared import PreparedQuery
from coordinator.core.release import release
from coordinator.core.tenancy import programme_scope, unscoped
from organisations.models import Person, calendar_token_digest
from organisations.permissions import actor_for

# How long a built feed stays in the cache; its key changes whenever its content would.
FEED_CACHE_SECONDS = 24 * 3600
# Raised when the same rows would give other bytes (a new property, another layout): entries written by
# earlier code are then never met.
FEED_FORMAT = 1

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BuiltFeed:
    """A feed as answered: the body and its validators, and the moment (if any) from which an event in it
    has aged out of the feed's window, so that the entry is no longer served."""

    body: bytes
    etag: str
    last_modified: int | None
    until: datetime | None


@require_http_methods(["GET", "HEAD"])
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """A person's private subscription feed: their confirmed sessions, visits and meetings.

    Public by design (calendar clients cannot sign in): the secret token identifies the person. An unknown
    or rotated token answers the same 404 as any missing page. The feed is then built inside the person's
    own scope, so it can hold nothing from programmes they do not belong to.

    While nothing the person's feed shows has changed (their stamp, ``coordinator.core.personal``, read
    with the person) the feed is answered from the cache: one query in all, compiled once.
    """
    if len(token) > 64:
        raise Http404
    # The database holds only a digest of each token, so the presented token is hashed and looked up by
    # its digest (a unique index), among the current addresses and then, when none matches, among the
    # addresses from before tokens were hashed.
    digest = calendar_token_digest(token)
    with unscoped():  # identifying the person by their secret is what decides the scope
        found = PERSON_BY_TOKEN.fetch(digest)
        person = found[0] if found else _person_by_legacy_token(digest)
        if person is None or not person.user.is_active:
            raise Http404
    key = _entry_key(person, digest) if settings.CALENDAR_FEED_CACHE else None
    feed = _lookup(key) if key is not None else None
    if feed is None:
        feed = _build(person)
        if key is not None:
            _keep(key, feed)
    return _answer(request, feed)


def _person_by_token(digest: int | str) -> QuerySet[Person]:
    """The person of a current feed address, with their stamp: the one query of an unchanged feed.

    With the user (is the account active?), and the organisation and unit the actor needs: ``actor_for``
    then takes this row as it is instead of reading the person again. The stamp is read before any row the
    feed shows, so an entry never holds rows older than the stamp it is kept under."""
    # The lookup by the secret cannot be scoped (it decides the scope); it reads one person's row.
    return (
        Person.unscoped_objects.select_related("user", "organisation", "unit")
        .filter(calendar_token_hash=digest)
        .annotate(feed_stamp=personal.stamp_subquery())
    )


# Every feed request reads it: compiled to SQL once per connection (the rows are read every time, so a
# renewed address or a closed account counts at once). The stand-in is no SHA-256 digest.
PERSON_BY_TOKEN: PreparedQuery[Person] = PreparedQuery(_person_by_token, stand_in="no digest of any token")


def _person_by_legacy_token(digest: str) -> Person | None:
    """The person of an address from before tokens were hashed (kept until renewed), or of none."""
    # As above: the secret decides the scope.
    return (
        Person.unscoped_objects.select_related("user", "organisation", "unit")
        .filter(legacy_calendar_token_hash=digest)
        .annotate(feed_stamp=personal.stamp_subquery())
        .first()
    )


def _entry_key(person: Person, digest: str) -> str:
    """Everything a feed's bytes depend on besides the rows its person's stamp covers: the address (a
    renewed one never meets the entry of the old), the language and zone of the request, the day and year
    (visits leave the window by the date; the VTIMEZONE runs to the next year), the settings read and the
    release."""
    parts = (
        digest,
        translation.get_language(),
        timezone.get_current_timezone_name(),
        timezone.localdate().isoformat(),
        datetime.now(UTC).year,
        settings.CALENDAR_FEED_PAST_DAYS,
        settings.SEMINARS_FEED_PAST_DAYS,
        settings.SITE_URL,
        settings.CALENDAR_UID_DOMAIN,
        settings.CALENDAR_PRODID,
        release(),
    )
    fingerprint = hashlib.sha256(repr(parts).encode()).hexdigest()[:32]
    stamp: int = person.feed_stamp  # type: ignore[attr-defined]  # the query's annotation
    return f"calendar-feed-of:{FEED_FORMAT}:{person.pk}:{stamp}:{fingerprint}"


def _lookup(key: str) -> BuiltFeed | None:
    try:
        feed: BuiltFeed | None = cache.get(key)
    except Exception:  # noqa: BLE001 - an unreachable cache costs speed, never the feed
        logger.warning("feed cache unreachable; feed built without it", exc_info=True)
        return None
    if feed is None or (feed.until is not None and timezone.now() >= feed.until):
        return None
    return feed


def _keep(key: str, feed: BuiltFeed) -> None:
    timeout = FEED_CACHE_SECONDS
    if feed.until is not None:
        timeout = max(1, min(timeout, int((feed.until - timezone.now()).total_seconds()) + 1))
    try:
        cache.set(key, feed, timeout)
    except Exception:  # noqa: BLE001 - as above
        logger.warning("feed cache unreachable; feed not kept", exc_info=True)


def _build(person: Person) -> BuiltFeed:
    started = timezone.now()
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
    # The text is cached under a fingerprint of everything that goes into it: a change to any event gives
    # a new key (never a stale feed), and the fingerprint is the ETag, so a client that has the current feed
    # gets a 304 without any building. It is the digest of ``repr((time_zone, name, events))``, written
    # from each event's own ``repr``, which also keys the event's kept text (``feed_text``).
    keys = [event_key(event) for event in events]
    described = f"({time_zone!r}, {name!r}, [{', '.join(keys)}])"
    fingerprint = hashlib.sha256(described.encode()).hexdigest()[:32]
    cache_key = f"calendar-feed:{fingerprint}"
    body = cache.get(cache_key)
    if body is None:
        body = feed_text(events, keys, time_zone=time_zone, name=name, keep=settings.CALENDAR_FEED_CACHE)
        cache.set(cache_key, body, timeout=FEED_CACHE_SECONDS)
    return BuiltFeed(body, f'"{fingerprint}"', last_modified, _ages_out(events, started))


def _ages_out(events: list[CalendarEvent], after: datetime) -> datetime | None:
    """The earliest moment after ``after`` at which an event of the feed may have aged out of it.

    The providers keep an event while it ended within their window of days (sessions: the seminars'
    window; visits and meetings: the calendar's): every event's end plus each window is a moment from which
    the feed may be written differently, the earliest of them ends the entry (an event's own moment is
    among them; the others at most rebuild the same feed). Visits leave by the date, which the key holds.
    """
    windows = {settings.CALENDAR_FEED_PAST_DAYS, settings.SEMINARS_FEED_PAST_DAYS}
    moments = [m for e in events for days in windows if (m := e.end + timedelta(days=days)) > after]
    return min(moments, default=None)


def _answer(request: HttpRequest, feed: BuiltFeed) -> HttpResponse:
    # RFC 9110 13.1.2: weak comparison, a list of tags or "*"; If-Modified-Since when no tag is sent.
    not_modified = get_conditional_response(request, etag=feed.etag, last_modified=feed.last_modified)
    response = not_modified or HttpResponse(feed.body, content_type="text/calendar; charset=utf-8")
    # (a 304 repeats the validators and Cache-Control the 200 would carry: RFC 9110 15.4.5)
    response["ETag"] = feed.etag
    response["Cache-Control"] = "private, max-age=300"
    if feed.last_modified is not None:
        response["Last-Modified"] = http_date(feed.last_modified)
    if not_modified is not None:
        return not_modified
    response["Content-Disposition"] = 'inline; filename="samverkan.ics"'
    if request.method == "HEAD":
        response["Content-Length"] = str(len(feed.body))
        response.content = b""
    return response


def _as_sent(event: CalendarEvent, sent: tuple[int, datetime] | None) -> CalendarEvent:
    if sent is None:
        return event
    sequence, changed_at = sent
    last = max(event.last_modified, changed_at) if event.last_modified else changed_at
    return replace(event, sequence=max(event.sequence, sequence), last_modified=last)
