"""Competences a programme names, the profile each role at work asks for, what gives each competence, and
the competences a line manager confirms were gained elsewhere."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from coordinator.core.tenancy import TenantModel


class Competence(TenantModel):
    """Something staff know or can do (e.g. "trauma-informed conversation", "the asylum process"), named
    in the programme's language."""

    programme = models.ForeignKey(
        "organisations.Programme", on_delete=models.CASCADE, related_name="competences"
    )
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), max_length=2000, blank=True)
    # A line manager's sign-off gives it (besides what the sources give).
    manager_sign_off = models.BooleanField(
        _("a line manager may sign it off"),
        default=True,
        help_text=_("The person's line manager may confirm it was gained elsewhere."),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("competence")
        verbose_name_plural = _("competences")
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "name"], name="competence_unique_name_per_programme"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CompetenceSource(TenantModel):
    """One thing on the platform that gives a competence: ``kind`` names a feature's evidence (see
    ``coordinator.core.registry.competence_evidence``) and ``value`` what of it (a course id, an agency
    kind, a focus group id)."""

    programme = models.ForeignKey("organisations.Programme", on_delete=models.CASCADE, related_name="+")
    competence = models.ForeignKey(Competence, on_delete=models.CASCADE, related_name="sources")
    kind = models.CharField(_("kind"), max_length=40)
    value = models.CharField(_("value"), max_length=60)

    class Meta:
        ordering = ["kind", "value"]
        verbose_name = _("source of a competence")
        verbose_name_plural = _("sources of competences")
        constraints = [
            models.UniqueConstraint(fields=["competence", "kind", "value"], name="competencesource_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.competence}: {self.kind} {self.value}"


class ProfileLevel(models.TextChoices):
    BASIC = "basic", _("Basic")
    PROFESSIONAL = "professional", _("Professional")


class ProfileCompetence(TenantModel):
    """A competence a role at work asks for, as part of its basic or its professional profile."""

    programme = models.ForeignKey("organisations.Programme", on_delete=models.CASCADE, related_name="+")
    work_role = models.ForeignKey(
        "organisations.WorkRole", on_delete=models.CASCADE, related_name="profile_competences"
    )
    competence = models.ForeignKey(Competence, on_delete=models.CASCADE, related_name="profile_entries")
    level = models.CharField(_("level"), max_length=16, choices=ProfileLevel.choices)

    class Meta:
        ordering = ["level", "competence__name"]
        verbose_name = _("competence of a profile")
        verbose_name_plural = _("competences of profiles")
        constraints = [
            models.UniqueConstraint(fields=["work_role", "competence"], name="profilecompetence_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.work_role}: {self.competence} ({self.level})"


class CompetenceConfirmation(TenantModel):
    """A line manager's confirmation that a person gained a competence elsewhere: when, and a note."""

    programme = models.ForeignKey("organisations.Programme", on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey(
        "organisations.Person", on_delete=models.CASCADE, related_name="competence_confirmations"
    )
    competence = models.ForeignKey(Competence, on_delete=models.CASCADE, related_name="confirmations")
    gained_on = models.DateField(_("gained on"))
    note = models.CharField(_("note"), max_length=500, blank=True)
    confirmed_by = models.ForeignKey(
        "organisations.Person", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    confirmed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-gained_on", "pk"]
        verbose_name = _("confirmed competence")
        verbose_name_plural = _("confirmed competences")
        constraints = [
            models.UniqueConstraint(fields=["person", "competence"], name="competenceconfirmation_unique"),
            models.CheckConstraint(
                condition=~Q(confirmed_by=models.F("person")), name="confirmation_not_own"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person}: {self.competence}"
