"""What hosts offer: the programme's ``Topic`` list, a ``Workplace`` of an organisation and its bookable
visit days (``Slot``), whose ``booked`` count the placement services keep under a CHECK constraint."""

from __future__ import annotations

from typing import ClassVar

from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from coordinator.core.tenancy import TenantModel
from organisations.models import validate_language_codes

# The most visitors one slot takes.
MAX_SLOT_CAPACITY = 3


class Topic(TenantModel):
    """A topic from the programme's controlled list (asylum process, introduction plan, sfi/language...)."""

    programme = models.ForeignKey(
        "organisations.Programme",
        on_delete=models.CASCADE,
        related_name="shadowing_topics",
        verbose_name=_("programme"),
    )
    name = models.CharField(_("name"), max_length=120)

    class Meta:
        ordering = ["name"]
        verbose_name = _("topic")
        verbose_name_plural = _("topics")
        constraints = [
            models.UniqueConstraint(fields=["programme", "name"], name="topic_unique_name_per_programme"),
        ]

    def __str__(self) -> str:
        return self.name


class Workplace(TenantModel):
    """A workplace an organisation opens to shadowers from the programme's other organisations."""

    programme = models.ForeignKey(
        "organisations.Programme",
        on_delete=models.CASCADE,
        related_name="workplaces",
        verbose_name=_("programme"),
    )
    organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        related_name="workplaces",
        verbose_name=_("organisation"),
    )
    unit = models.ForeignKey(
        "organisations.Unit",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="workplaces",
        verbose_name=_("unit"),
    )
    name = models.CharField(_("name"), max_length=200)
    street_address = models.CharField(_("street address"), max_length=200)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    city = models.CharField(_("city"), max_length=100)
    description = models.TextField(
        _("what a visitor will see and do"),
        max_length=5000,
        validators=[MaxLengthValidator(5000)],
        help_text=_("The work a visitor takes part in, the meetings they may sit in on, what to expect."),
    )
    topics = models.ManyToManyField(Topic, related_name="workplaces", blank=True, verbose_name=_("topics"))
    languages = models.JSONField(
        _("languages"),
        default=list,
        blank=True,
        validators=[validate_language_codes],
        help_text=_("Language codes a visitor can be received in, such as sv, da, en, ar."),
    )
    accessibility = models.TextField(
        _("accessibility"),
        max_length=2000,
        validators=[MaxLengthValidator(2000)],
        blank=True,
        help_text=_("Step-free access, hearing loop, quiet room, what to tell the host in advance."),
    )
    max_visitors_per_day = models.PositiveSmallIntegerField(
        _("most visitors per day"),
        default=2,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
    )
    confidentiality_terms = models.TextField(
        _("confidentiality terms"),
        max_length=5000,
        validators=[MaxLengthValidator(5000)],
        blank=True,
        help_text=_("The undertaking a visitor accepts before the visit (protected personal data)."),
    )
    contact = models.ForeignKey(
        "organisations.Person",
        on_delete=models.PROTECT,
        related_name="hosted_workplaces",
        verbose_name=_("host contact"),
    )
    is_published = models.BooleanField(_("published"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "pk"]
        verbose_name = _("workplace")
        verbose_name_plural = _("workplaces")
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "organisation", "name"], name="workplace_unique_name_per_organisation"
            ),
            models.CheckConstraint(
                condition=Q(max_visitors_per_day__gte=1) & Q(max_visitors_per_day__lte=10),
                name="workplace_max_visitors_in_range",
            ),
        ]
        indexes = [
            models.Index(fields=["programme", "is_published"], name="workplace_published_idx"),
            models.Index(fields=["organisation", "programme"], name="workplace_organisation_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def address(self) -> str:
        return ", ".join(
            part for part in (self.street_address, f"{self.postal_code} {self.city}".strip()) if part
        )


class Slot(TenantModel):
    """One bookable visit day at a workplace, for 1–3 visitors."""

    tenant_path: ClassVar[str] = "workplace__programme"

    workplace = models.ForeignKey(
        Workplace, on_delete=models.CASCADE, related_name="slots", verbose_name=_("workplace")
    )
    date = models.DateField(_("date"))
    starts_at = models.TimeField(_("starts"))
    ends_at = models.TimeField(_("ends"))
    capacity = models.PositiveSmallIntegerField(
        _("places"), default=1, validators=[MinValueValidator(1), MaxValueValidator(MAX_SLOT_CAPACITY)]
    )
    booked = models.PositiveSmallIntegerField(default=0, editable=False)
    notes = models.CharField(_("notes"), max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["date", "starts_at", "pk"]
        verbose_name = _("slot")
        verbose_name_plural = _("slots")
        constraints = [
            models.UniqueConstraint(
                fields=["workplace", "date", "starts_at"], name="slot_unique_start_per_workplace"
            ),
            models.CheckConstraint(
                condition=Q(capacity__gte=1) & Q(capacity__lte=3), name="slot_capacity_in_range"
            ),
            models.CheckConstraint(condition=Q(booked__gte=0), name="slot_booked_not_negative"),
            models.CheckConstraint(
                condition=Q(booked__lte=F("capacity")), name="slot_booked_within_capacity"
            ),
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="slot_ends_after_start"),
        ]
        indexes = [models.Index(fields=["date", "workplace"], name="slot_date_idx")]

    def __str__(self) -> str:
        return f"{self.workplace} {self.date:%Y-%m-%d} {self.starts_at:%H:%M}–{self.ends_at:%H:%M}"

    @property
    def free(self) -> int:
        return self.free_of(self.capacity, self.booked)

    @staticmethod
    def free_of(capacity: int, booked: int) -> int:
        """Places free on a slot with these columns (``free``, for a row read as values)."""
        return max(0, capacity - booked)
