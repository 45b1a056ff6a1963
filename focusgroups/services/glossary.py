"""The shared glossary: concepts, each organisation's term and definition, and comments."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from coordinator.core.exceptions import Conflict
from coordinator.core.services import apply_changes, validate
from focusgroups import permissions
from focusgroups.models import Concept, ConceptComment, ConceptTerm
from focusgroups.services._shared import require_person
from organisations.models import Organisation, Programme
from organisations.permissions import Actor


@transaction.atomic
def concept_create(*, actor: Actor, programme: Programme, name: str, description: str = "") -> Concept:
    """Add a concept to the programme's shared glossary (any member of the programme)."""
    person = require_person(actor)
    if not permissions.can_use_glossary(actor, programme):
        raise PermissionDenied(_("Only members of the programme may add to its glossary."))
    concept = Concept(programme=programme, name=name.strip(), description=description, created_by=person)
    validate(concept)
    if Concept.objects.filter(programme=programme, name__iexact=concept.name).exists():
        raise ValidationError({"name": _("The glossary already has this concept.")})
    concept.save()
    return concept


@transaction.atomic
def concept_update(*, actor: Actor, concept: Concept, values: Mapping[str, Any]) -> Concept:
    """Rename or describe a concept (its author or a coordinator)."""
    person = require_person(actor)
    if concept.created_by_id != person.pk and not actor.is_coordinator(concept.programme_id):
        raise PermissionDenied(_("Only the concept's author or a coordinator may change it."))
    changed = apply_changes(concept, values, {"name", "description"})
    validate(concept)
    if (
        "name" in changed
        and Concept.objects.filter(programme_id=concept.programme_id, name__iexact=concept.name)
        .exclude(pk=concept.pk)
        .exists()
    ):
        raise ValidationError({"name": _("The glossary already has this concept.")})
    if changed:
        concept.save(update_fields=changed)
    return concept


@transaction.atomic
def term_set(
    *, actor: Actor, concept: Concept, organisation: Organisation, term: str, definition: str = ""
) -> ConceptTerm:
    """Set what an organisation calls a concept and how it defines it (its own people, or a coordinator)."""
    person = require_person(actor)
    if not permissions.can_set_term(actor, concept.programme_id, organisation.pk):
        raise PermissionDenied(_("Only the organisation's own people may set its term."))
    if not organisation.participations.filter(programme_id=concept.programme_id).exists():
        raise ValidationError({"organisation": _("Choose an organisation that takes part in the programme.")})
    row = ConceptTerm.objects.filter(concept=concept, organisation=organisation).first()
    if row is None:
        row = ConceptTerm(concept=concept, organisation=organisation)
    row.term, row.definition, row.updated_by = term.strip(), definition, person
    validate(row)
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError as exc:
        raise Conflict(_("This organisation's term was just set; reload.")) from exc
    return row


@transaction.atomic
def comment_add(*, actor: Actor, concept: Concept, body: str) -> ConceptComment:
    """Comment on a glossary concept (any member of the programme)."""
    person = require_person(actor)
    if not permissions.can_use_glossary(actor, concept.programme_id):
        raise PermissionDenied(_("Only members of the programme may comment."))
    comment = ConceptComment(concept=concept, author=person, body=body.strip())
    validate(comment)
    comment.save()
    return comment
