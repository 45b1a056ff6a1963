"""The one exception every service raises when the state changed under the caller.

Services raise ``django.core.exceptions.ValidationError`` for bad input (400 in the API, form errors on
pages), ``PermissionDenied`` for a missing right (403), and ``Conflict`` when the request was sound but the
world moved on: someone acted first, a seat was taken, a version is stale, a name was taken meanwhile.
Nothing is written when it is raised. The API maps it once (``coordinator.core.drf.exception_handler``:
409 with the messages), pages map it once (``coordinator.core.views``: form errors or a message).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _


class Conflict(Exception):  # noqa: N818 (the domain's word for the condition)
    """The request conflicts with the current state; nothing was written.

    ``messages`` say what changed, in the reader's language. ``current`` may carry the object as it is now
    (a note saved meanwhile), so the caller can show both sides.
    """

    def __init__(self, messages: Any = None, *, current: Any = None) -> None:
        if messages is None:
            messages = [_("This conflicts with the current state; reload and try again.")]
        elif not isinstance(messages, list | tuple):
            messages = [messages]
        self.messages: list[str] = [str(message) for message in messages]
        self.current = current
        super().__init__(" ".join(self.messages))
