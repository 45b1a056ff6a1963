"""A page's frame: its template with the layout around it, written once per shape and kept in the process.

On the course catalogue and the workplaces page, rendering the template (the layout's head, the header's
tag, the sub-navigation, the footer, a dozen translated strings and static addresses) cost more processor
time than the page's own work, though between two requests of the same shape it differs only in parts the
view has already written: the header (``coordinator.core.chrome``, each reader's own parts filled in) and
the page's own markup (the courses, the cards). ``respond`` renders the template once per *shape* with gaps
for those parts (``coordinator.core.content.gap``) and keeps the ``Fragment`` in a small LRU of this
process; each request then fills the gaps. The shape names everything else the template reads: the
language, the zone, the script prefix, the programme (key, name, zone, archived or not), whether each live
part is empty (the templates test that), and what the view adds (``shape``: its flags).

A page whose template writes the CSRF token (``{% csrf_token %}``: a form that posts) may have its frame kept
too when the view asks for it (``tokens``): the frame is rendered with a gap for the token, and each request
fills in the token its own header writes (the same value, as a page rendered in full writes one token
throughout). Otherwise a template that writes the token is rendered in full on every request.

A page with a message to show (``django.contrib.messages``) is rendered in full, as before: the messages are
read, shown once and marked used as the template does it. The response is a ``TemplateResponse`` holding its
content already, so that middleware sees the template's name as before.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Mapping, Sequence

from django.contrib.messages import get_messages
from django.http import HttpRequest
from django.template import Context, engines
from django.template.context_processors import csrf
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import get_script_prefix
from django.utils import timezone
from django.utils.translation import get_language

from coordinator.core import chrome
from coordinator.core.content import Fragment, Recent, gap

# The context value the ``{% csrf_token %}`` tag writes (the ``csrf`` context processor's): a name, no secret.
TOKEN = "csrf_token"  # noqa: S105 - a name
# The ``csrf`` processor's value when the request has no token (the tag then writes nothing).
NO_TOKEN = "NOTPROVIDED"  # noqa: S105 - a marker, no secret
_TOKEN_ATTRIBUTE = "_samverkan_frame_token"  # noqa: S105 - an attribute's name
HEADER = "layout_header"  # the layout's tag writes this context value when given (templatetags/layout.py)
CSRF_WRITTEN = "CSRF_COOKIE_NEEDS_UPDATE"  # what ``get_token`` marks on the request when a token is written
_GAP = re.compile(r"<!--live:([a-z_]+)-->")  # ``content.gap``'s marker
# A shape per page, programme, language and set of flags: a few dozen in a busy process.
FRAMES = Recent(256)


def respond(
    request: HttpRequest,
    template_name: str,
    context: Mapping[str, object],
    *,
    live: Sequence[str],
    shape: tuple[Hashable, ...],
    tokens: bool = False,
) -> TemplateResponse:
    """The page of ``template_name`` for ``context`` (as ``TemplateResponse`` would write it): ``live``
    names the context's values written anew on every request (safe strings: the page's own markup);
    ``shape`` the values of the context the template tests or writes besides them (flags); ``tokens``: the
    template's forms write the CSRF token, filled in on each request."""
    response = TemplateResponse(request, template_name, dict(context))
    if len(get_messages(request)):
        return response  # rendered in full: the messages are shown once and marked used
    programme = getattr(request, "programme", None)
    key = (
        template_name,
        get_language(),
        timezone.get_current_timezone_name(),
        get_script_prefix(),
        (programme.pk, programme.name, programme.time_zone, programme.archived_at is not None)
        if programme is not None
        else None,
        tuple(bool(context[name]) for name in live),
        shape,
        tokens,
    )
    frame = FRAMES.get(repr(key))
    if not isinstance(frame, Fragment):
        frame = _frame(request, template_name, context, live, tokens)
        if frame is None:
            return response  # the template writes a reader's own token: never kept
        FRAMES.put(repr(key), frame)
    processed = _processed(request)
    processed[TOKEN] = token(request)  # the page's one token, shared with the parts the view wrote
    if tokens and str(processed[TOKEN]) == NO_TOKEN:
        return response  # no token to write: the template's forms written as it writes them without one
    header = Context(processed)
    filled = {name: str(context[name]) for name in live}
    filled[HEADER] = chrome.site_header(header)
    if tokens:
        filled[TOKEN] = str(processed[TOKEN])
    response.content = frame.fill(filled)
    return response


def _frame(
    request: HttpRequest,
    template_name: str,
    context: Mapping[str, object],
    live: Sequence[str],
    tokens: bool,
) -> Fragment | None:
    holes = {name: gap(name) if context[name] else "" for name in live}
    written = request.META.pop(CSRF_WRITTEN, None)
    if tokens:
        # The context processors' values over the view's, as a ``RequestContext`` puts them, but the token
        # a gap.
        values = {**context, **holes, HEADER: gap(HEADER), **_processed(request), TOKEN: gap(TOKEN)}
        html = render_to_string(template_name, values)
    else:
        html = render_to_string(template_name, {**context, **holes, HEADER: gap(HEADER)}, request)
    own_token = request.META.pop(CSRF_WRITTEN, None)
    if written is not None:
        request.META[CSRF_WRITTEN] = written
    if own_token is not None:
        request.META[CSRF_WRITTEN] = own_token
        return None
    return Fragment(tuple(_GAP.split(html)))


def token(request: HttpRequest) -> object:
    """The request's CSRF token as the ``csrf`` context processor gives it (read and masked only when
    written), one per request: the header, the frame and the parts a view writes with a token (e.g. a form
    in each card) write the same value, as a page rendered in full does."""
    found = request.__dict__.get(_TOKEN_ATTRIBUTE)
    if found is None:
        found = request.__dict__[_TOKEN_ATTRIBUTE] = csrf(request)[TOKEN]
    return found


def _processed(request: HttpRequest) -> dict[str, object]:
    """What the engine's context processors give a ``RequestContext`` for the request (the CSRF token
    lazily, as the ``csrf`` processor gives it: read and masked only when written)."""
    values: dict[str, object] = {}
    for processor in engines["django"].engine.template_context_processors:  # type: ignore[attr-defined]
        values.update(processor(request))
    return values
