"""The weekly status as a page and as a print view (for a PDF or a paper to the steering group)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.generic import TemplateView

from coordinator.core.validators import parse_int
from organisations.access.views import ProgrammeMixin
from organisations.models import Organisation, PlatformRole
from organisations.permissions import REPORT_READERS
from organisations.reports import status


class WeeklyStatusView(ProgrammeMixin, TemplateView):
    """This week's status as the weekly email says it: the programme's, or (``?organisation=``) as one
    organisation's admins read it. ``printable`` gives the same without the site around it."""

    template_name = "organisations/status.html"
    required_roles = frozenset(REPORT_READERS)
    printable = False

    def get(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        organisations = dict(
            Organisation.objects.filter(participations__programme=self.programme).values_list(
                "pk", "short_name"
            )
        )
        wanted = parse_int(request.GET.get("organisation")) if "organisation" in request.GET else None
        if wanted is None and not self.has_role(
            PlatformRole.PROGRAMME_ADMIN, PlatformRole.COORDINATOR, PlatformRole.STEERING_GROUP
        ):
            wanted = self.actor.organisation_id
        organisation_id = wanted if wanted in organisations else None
        built = status.build(self.programme, timezone.localdate(), organisation_id=organisation_id)
        context = self.get_context_data(
            status=built,
            organisation_name=organisations.get(organisation_id or 0, ""),
            organisations=sorted(organisations.items(), key=lambda item: item[1]),
            printable=self.printable,
            last_sent=status.last_sent(self.programme),
        )
        if self.printable:
            self.template_name = "organisations/status_print.html"
        return self.render_to_response(context)
