"""Demo competences and profiles for Malmö: what the source documents say staff who meet newly arrived
refugees need (trauma, the asylum process, mapping methodology, knowing each other's organisations), what
gives each on the platform, and which roles at work ask for which. Runs after the features' demo data,
and names courses and focus groups by their titles through ``registry.competence_evidence``, so this app
imports no feature."""

from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext

from coordinator.core import registry
from organisations.models import (
    Competence,
    CompetenceSource,
    OrganisationKind,
    ProfileCompetence,
    Programme,
    WorkRole,
)
from organisations.seed.data import MALMO_SLUG

TRAUMA = "Traumamedvetet bemötande"
TRAUMA_ADVANCED = "Samtalsbehandling och bedömning vid trauma"
ASYLUM = "Asylprocessen"
EMPLOYMENT = "Hur Arbetsförmedlingen arbetar"
MAPPING = "Kartläggning och handlingsplan"
ORGANISATIONS = "Varandras organisationer och begrepp"

# name, description, sources as (kind, title of the course or group, or an agency kind)
COMPETENCES = (
    (
        TRAUMA,
        "Att känna igen och bemöta människor med traumatiska upplevelser, och veta när man hänvisar vidare.",
        (
            ("course", "PTSD – att möta människor med traumatiska upplevelser"),
            ("agency_kind", OrganisationKind.REGION),
        ),
    ),
    (
        TRAUMA_ADVANCED,
        "Samtalsbehandling och bedömningsmetodik för den som arbetar nära personer med trauma.",
        (("course", "PTSD fördjupning – samtalsbehandling och bedömningsmetodik"),),
    ),
    (
        ASYLUM,
        "Hur en asylansökan prövas och vad den sökande har gjort och lärt under asyltiden.",
        (("agency_kind", OrganisationKind.STATE_AGENCY),),
    ),
    (
        EMPLOYMENT,
        "Arbetsförmedlingens uppdrag i etableringen, dess regler och arbetssätt.",
        (("agency_kind", OrganisationKind.EMPLOYMENT_SERVICE),),
    ),
    (
        MAPPING,
        "En gemensam syn på vad en kartläggning och en handlingsplan är.",
        (
            ("course", "Kartläggningsmetodik – gemensam syn på kartläggning och handlingsplan"),
            ("focus_group", "Methods of mapping skills"),
        ),
    ),
    (
        ORGANISATIONS,
        "Varandras uppdrag, regler och begrepp: vad menar vi med kund, klient, patient, elev, medborgare?",
        (
            ("focus_group", "Knowledge of each other's organisations"),
            ("agency_kind", OrganisationKind.MUNICIPALITY),
        ),
    ),
)

# role at work code -> (basic, professional)
PROFILES = {
    "case_officer": ((TRAUMA, ORGANISATIONS), (MAPPING, TRAUMA_ADVANCED)),
    "introduction_secretary": ((TRAUMA, ASYLUM, ORGANISATIONS), (MAPPING, TRAUMA_ADVANCED)),
    "counsellor": ((TRAUMA, ASYLUM), (TRAUMA_ADVANCED,)),
    "employment_officer": ((TRAUMA, ASYLUM, ORGANISATIONS), (MAPPING,)),
    "social_worker": ((TRAUMA, ASYLUM, EMPLOYMENT), (MAPPING,)),
}


def _source_value(programme: Programme, kind: str, name: str) -> str | None:
    """The value of a source named by a course's or group's title (groups are named in the programme's
    language), or an agency kind as it is."""
    evidence = registry.competence_evidence.get(kind)
    if evidence is None:
        return None
    if kind == "agency_kind":
        return name
    with translation.override(programme.language or None):
        wanted = {name, gettext(name)}
    return next((value for value, label in evidence.choices(programme) if label in wanted), None)


def seed_competences() -> list[tuple[str, str]]:
    """Load Malmö's competences and profiles where missing (idempotent)."""
    programme = Programme.unscoped_objects.filter(slug=MALMO_SLUG).first()
    if programme is None:
        return []
    by_name = {}
    for name, description, sources in COMPETENCES:
        competence, _created = Competence.unscoped_objects.get_or_create(
            programme=programme, name=name, defaults={"description": description}
        )
        by_name[name] = competence
        for kind, source in sources:
            value = _source_value(programme, kind, source)
            if value is not None:
                CompetenceSource.unscoped_objects.get_or_create(
                    programme=programme, competence=competence, kind=kind, value=value
                )
    roles = {
        r.code: r for r in WorkRole.unscoped_objects.filter(programme=programme, code__in=list(PROFILES))
    }
    for code, (basic, professional) in PROFILES.items():
        role = roles.get(code)
        if role is None:
            continue
        for level, names in (("basic", basic), ("professional", professional)):
            for name in names:
                ProfileCompetence.unscoped_objects.get_or_create(
                    programme=programme, work_role=role, competence=by_name[name], defaults={"level": level}
                )
    return []
