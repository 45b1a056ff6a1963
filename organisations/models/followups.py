"""Transfer and effect: what a person expected of a course or a visit before it, and whether it made a
difference some months after (asked of the person and of their line manager)."""

from __future__ import annotations

from typing import ClassVar

from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from coordinator.core.tenancy import TenantModel

TEXT_MAX_LENGTH = 2000
RATING = [MinValueValidator(1), MaxValueValidator(5)]


class Expectation(TenantModel):
    """What a person expects to get out of something before it (1-5 and a few words)."""

    tenant_path: ClassVar[str] = "programme"

    programme = models.ForeignKey("organisations.Programme", on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey("organisations.Person", on_delete=models.CASCADE, related_name="expectations")
    subject_kind = models.CharField(max_length=40)
    subject_id = models.PositiveBigIntegerField()
    rating = models.PositiveSmallIntegerField(_("how useful do you expect it to be (1-5)"), validators=RATING)
    text = models.TextField(
        _("what do you hope to learn or use"),
        max_length=TEXT_MAX_LENGTH,
        blank=True,
        validators=[MaxLengthValidator(TEXT_MAX_LENGTH)],
    )
    recorded_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-recorded_at"]
        verbose_name = _("expectation")
        verbose_name_plural = _("expectations")
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "person", "subject_kind", "subject_id"], name="expectation_once"
            ),
            models.CheckConstraint(condition=Q(rating__gte=1) & Q(rating__lte=5), name="expectation_rating"),
        ]

    def __str__(self) -> str:
        return f"{self.subject_kind}:{self.subject_id} ({self.rating})"


class FollowUp(TenantModel):
    """A follow-up question some months after something was finished, to the person who did it or to their
    line manager, and its answer. Answers are read as aggregates; a person's own are shown to them only."""

    tenant_path: ClassVar[str] = "programme"

    class Respondent(models.TextChoices):
        PERSON = "person", _("The participant")
        MANAGER = "manager", _("The line manager")

    class Use(models.TextChoices):
        YES = "yes", _("Yes, regularly")
        PARTLY = "partly", _("Partly, now and then")
        NO = "no", _("Not yet")

    programme = models.ForeignKey("organisations.Programme", on_delete=models.CASCADE, related_name="+")
    person = models.ForeignKey("organisations.Person", on_delete=models.CASCADE, related_name="follow_ups")
    respondent = models.ForeignKey("organisations.Person", on_delete=models.CASCADE, related_name="+")
    respondent_kind = models.CharField(max_length=8, choices=Respondent.choices)
    # The person's organisation when it was finished: answers are pooled by it.
    organisation = models.ForeignKey("organisations.Organisation", on_delete=models.PROTECT, related_name="+")
    subject_kind = models.CharField(max_length=40)
    subject_id = models.PositiveBigIntegerField()
    group_id = models.PositiveBigIntegerField()
    finished_on = models.DateField()
    due_on = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    used = models.CharField(
        _("has it been used in daily work"), max_length=8, choices=Use.choices, blank=True
    )
    how_used = models.TextField(
        _("how"), max_length=TEXT_MAX_LENGTH, blank=True, validators=[MaxLengthValidator(TEXT_MAX_LENGTH)]
    )
    shared = models.BooleanField(_("shared with colleagues"), null=True, blank=True)
    rating = models.PositiveSmallIntegerField(
        _("how much difference did it make (1-5)"), null=True, blank=True, validators=RATING
    )
    comment = models.TextField(
        _("anything else"),
        max_length=TEXT_MAX_LENGTH,
        blank=True,
        validators=[MaxLengthValidator(TEXT_MAX_LENGTH)],
    )

    class Meta:
        ordering = ["-due_on", "pk"]
        verbose_name = _("follow-up")
        verbose_name_plural = _("follow-ups")
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "person", "respondent_kind", "subject_kind", "subject_id"],
                name="followup_once",
            ),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | (Q(rating__gte=1) & Q(rating__lte=5)),
                name="followup_rating",
            ),
        ]
        indexes = [models.Index(fields=["programme", "subject_kind", "group_id"], name="followup_group_idx")]

    def __str__(self) -> str:
        return f"{self.subject_kind}:{self.subject_id} → {self.respondent_kind}"
