"""A person's personal data: a programme admin erases (pseudonymises) a person of the programme."""

from __future__ import annotations

from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext, gettext_lazy
from django.views.generic import FormView

from coordinator.core.views import ServiceFormMixin
from organisations.access.views import ProgrammeMixin
from organisations.forms import PersonEraseForm
from organisations.models import Person, PlatformRole
from organisations.services import personal_data


class PersonEraseView(ProgrammeMixin, ServiceFormMixin, FormView):  # type: ignore[type-arg]
    """A programme admin erases (pseudonymises) a person of the programme, after a confirmation that says
    whether the person is erased everywhere or only leaves this programme (see services.personal_data)."""

    template_name = "organisations/person_erase.html"
    form_class = PersonEraseForm
    model = Person
    required_roles = frozenset({PlatformRole.PROGRAMME_ADMIN})
    page_title = gettext_lazy("Erase personal data")
    submit_label = gettext_lazy("Erase personal data")
    erased: Person
    outcome: personal_data.ErasureOutcome

    def narrow_queryset(self, queryset: QuerySet[Person]) -> QuerySet[Person]:
        # Members of this programme, past ones too: an ended membership is what retention is about.
        return queryset.filter(memberships__programme=self.programme, erased_at__isnull=True).select_related(
            "user", "organisation"
        )

    def load(self, **kwargs: object) -> None:
        self.erased = self.get_object_or_404(pk=kwargs["pk"])
        self.extra_context = {
            "subject": self.erased,
            "outcome": personal_data.erasure_scope(actor=self.actor, person=self.erased),
            "back_url": reverse("organisations:detail", kwargs={"pk": self.erased.organisation_id}),
        }

    def perform(self, form: PersonEraseForm) -> str:
        self.outcome = personal_data.person_erase(
            actor=self.actor, person=self.erased, programme=self.programme
        )
        return reverse("organisations:detail", kwargs={"pk": self.erased.organisation_id})

    def get_success_message(self) -> str:
        if self.outcome.kind == "erased":
            return gettext("The person's personal data was erased.")
        return gettext(
            "The person left this programme and its records of them were pseudonymised; another programme "
            "still has them as a member."
        )
