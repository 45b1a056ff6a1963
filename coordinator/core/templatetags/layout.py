"""The layout's tags: ``{% site_header %}`` (``coordinator.core.chrome``)."""

from __future__ import annotations

from django import template
from django.template import Context
from django.utils.safestring import SafeString

from coordinator.core import chrome

register = template.Library()


@register.simple_tag(takes_context=True)
def site_header(context: Context) -> SafeString:
    # A page frame (``coordinator.core.frames``) leaves a gap here and fills in each reader's header.
    given = context.get("layout_header")
    if given is not None:
        return given  # type: ignore[no-any-return]
    return chrome.site_header(context)
