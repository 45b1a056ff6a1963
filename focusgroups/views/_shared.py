"""What the focus-group pages share: the base of pages about one group, the programme's organisations and
the form template."""

from __future__ import annotations

from typing import Any, ClassVar

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from focusgroups import permissions
from focusgroups.models import FocusGroup
from organisations.access.views import ProgrammeMixin
from organisations.models import Organisation, Programme

# Every form page of the app renders on this template (page_title, subject, back_url, help, danger).
FORM_TEMPLATE = "focusgroups/form.html"


def programme_organisations(programme: Programme) -> list[Organisation]:
    """The organisations taking part in the programme, by name (one query)."""
    return list(Organisation.objects.filter(participations__programme=programme).order_by("name"))


class GroupScoped(ProgrammeMixin):
    """Pages about one focus group of the current programme (404 for any other)."""

    model: ClassVar[Any] = FocusGroup
    group: FocusGroup
    rights: frozenset[str]

    def narrow_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.select_related("convener__user", "programme")

    def get_group(self, pk: int) -> FocusGroup:
        group: FocusGroup = self.get_object_or_404(pk=pk)
        self.set_group(group)
        return group

    def set_group(self, group: FocusGroup) -> None:
        """The group the page is about, and the actor's rights in it (one query)."""
        self.group = group
        self.rights = permissions.group_rights(self.actor, group)

    @property
    def can_manage(self) -> bool:
        return permissions.can_manage_group(self.actor, self.group, self.rights)

    def check_manage(self) -> None:
        if not self.can_manage:
            raise PermissionDenied(_("Only the group's convener and the coordinators may do this."))
