"""Pages of the shared glossary: every concept with each organisation's term side by side, and one concept
with its terms, comments and my organisation's term."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from coordinator.core.forms import add_service_errors
from coordinator.core.views import SERVICE_ERRORS
from focusgroups import forms, permissions
from focusgroups.models import Concept, ConceptComment, ConceptTerm
from focusgroups.services import glossary
from focusgroups.views._shared import programme_organisations
from organisations.access.views import ProgrammeMixin


@dataclass
class ConceptRow:
    concept: Concept
    terms: list[ConceptTerm | None] = field(default_factory=list)


class GlossaryView(ProgrammeMixin, TemplateView):
    """Every concept with each organisation's term side by side; anyone in the programme adds a concept."""

    template_name = "focusgroups/glossary.html"
    model = Concept

    def _render(self, request: HttpRequest, form: forms.ConceptForm, status: int = 200) -> HttpResponse:
        organisations = programme_organisations(self.programme)
        concepts = list(self.get_queryset().order_by("name", "pk"))
        terms: dict[tuple[int, int], ConceptTerm] = {
            (t.concept_id, t.organisation_id): t
            for t in ConceptTerm.objects.filter(concept__programme=self.programme)
        }
        rows = [ConceptRow(c, [terms.get((c.pk, o.pk)) for o in organisations]) for c in concepts]
        context = {"concepts": rows, "organisations": organisations, "form": form}
        return render(request, self.template_name, context, status=status)

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._render(request, forms.ConceptForm())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = forms.ConceptForm(request.POST)
        if form.is_valid():
            try:
                concept = glossary.concept_create(
                    actor=self.actor, programme=self.programme, **form.cleaned_data
                )
            except SERVICE_ERRORS as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("The concept is added. Now give your organisation's term."))
                return redirect("focusgroups:concept", pk=concept.pk)
        return self._render(request, form, status=400)


class ConceptView(ProgrammeMixin, View):
    """One concept: each organisation's term and definition side by side, comments, and my organisation's
    term to add or edit."""

    template_name = "focusgroups/concept.html"
    model = Concept
    concept: Concept

    def _render(
        self,
        request: HttpRequest,
        term_form: forms.TermForm | None = None,
        comment_form: forms.CommentForm | None = None,
        status: int = 200,
    ) -> HttpResponse:
        concept = self.concept
        organisations = programme_organisations(self.programme)
        terms = {
            t.organisation_id: t
            for t in ConceptTerm.objects.filter(concept=concept).select_related("updated_by__user")
        }
        my_organisation = next((o for o in organisations if o.pk == self.actor.organisation_id), None)
        can_set = my_organisation is not None and permissions.can_set_term(
            self.actor, self.programme, my_organisation.pk
        )
        if can_set and term_form is None:
            mine = terms.get(my_organisation.pk) if my_organisation else None
            term_form = forms.TermForm(
                initial={"term": mine.term, "definition": mine.definition} if mine else None
            )
        context = {
            "concept": concept,
            "terms": [(o, terms.get(o.pk)) for o in organisations],
            "comments": list(
                ConceptComment.objects.filter(concept=concept)
                .select_related("author__user", "author__organisation")
                .order_by("created_at", "pk")
            ),
            "my_organisation": my_organisation,
            "term_form": term_form if can_set else None,
            "comment_form": comment_form or forms.CommentForm(),
        }
        return render(request, self.template_name, context, status=status)

    def get(self, request: HttpRequest, pk: int) -> HttpResponse:
        self.concept = self.get_object_or_404(pk=pk)
        return self._render(request)

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        self.concept = self.get_object_or_404(pk=pk)
        if request.POST.get("action") == "term":
            term_form = forms.TermForm(request.POST)
            if term_form.is_valid():
                try:
                    glossary.term_set(
                        actor=self.actor,
                        concept=self.concept,
                        organisation=self.person.organisation,
                        **term_form.cleaned_data,
                    )
                except SERVICE_ERRORS as error:
                    add_service_errors(term_form, error)
                else:
                    messages.success(request, _("Your organisation's term is saved."))
                    return redirect("focusgroups:concept", pk=self.concept.pk)
            return self._render(request, term_form=term_form, status=400)
        comment_form = forms.CommentForm(request.POST)
        if comment_form.is_valid():
            try:
                glossary.comment_add(
                    actor=self.actor, concept=self.concept, body=comment_form.cleaned_data["body"]
                )
            except SERVICE_ERRORS as error:
                add_service_errors(comment_form, error)
            else:
                messages.success(request, _("Your comment is added."))
                return redirect("focusgroups:concept", pk=self.concept.pk)
        return self._render(request, comment_form=comment_form, status=400)
