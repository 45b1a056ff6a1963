"""What staff ask for: a ``ShadowingRequest`` with its ``AvailabilityWindow`` rows and ranked
``Preference`` rows, when it lapses, and why the last match left it out (``UnplacedReason``)."""

from __future__ import annotations

import datetime as dt
from datetime import timedelta
from typing import ClassVar

from django.conf import settings
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from coordinator.core.tenancy import TenantModel
from organisations.models import validate_language_codes
from shadowing.models.workplaces import Topic, Workplace

# A note or reason someone types (a decision note, why a host declined, why a visit was cancelled).
NOTE_MAX_LENGTH = 1000


def default_request_expiry() -> dt.datetime:
    """When a request submitted now lapses if it is still unplaced (``SHADOWING_REQUEST_EXPIRY_DAYS``)."""
    return timezone.now() + timedelta(days=int(settings.SHADOWING_REQUEST_EXPIRY_DAYS))


class UnplacedReason(models.TextChoices):
    """Why the last match left an approved request out: the matcher's codes
    (``shadowing.matching.options.REASONS``) and a coordinator's removal. Stored as the code and shown in
    the reader's language."""

    NO_SLOT_IN_WINDOW = (
        "no_slot_in_window",
        _("No workplace has a free visit day inside your availability windows."),
    )
    ALL_FULL = "all_full", _("Every suitable visit day was taken by other requests in this round.")
    ONLY_OWN_ORGANISATION = (
        "only_own_organisation",
        _("Only your own organisation offers what you asked for, and shadowing is always elsewhere."),
    )
    NO_MATCHING_TOPIC_OR_LANGUAGE = (
        "no_matching_topic_or_language",
        _("No workplace offers one of your topics in a language you named."),
    )
    PARTNER_NOT_PLACED = (
        "partner_not_placed",
        _("Your exchange partner could not be placed, so neither of you was."),
    )
    TOO_FEW_DAYS = (
        "too_few_days",
        _("No suitable workplace has as many visit days as you asked for inside one of your windows."),
    )
    NO_CONSECUTIVE_DAYS = (
        "no_consecutive_days",
        _("Suitable workplaces have visit days in your windows, but none has enough of them in a row."),
    )
    REMOVED = "removed", _("A coordinator took this request out of the proposal.")


class ShadowingRequest(TenantModel):
    """A staff member's request to shadow at another organisation for one to three days."""

    class Status(models.TextChoices):
        PENDING_APPROVAL = "pending_approval", _("Waiting for line manager approval")
        APPROVED = "approved", _("Approved, waiting to be matched")
        DECLINED = "declined", _("Not approved")
        PLACED = "placed", _("Placed")
        EXPIRED = "expired", _("Expired")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    # Requests still in play: they may be edited, paired, approved or matched.
    OPEN: ClassVar[tuple[str, ...]] = (Status.PENDING_APPROVAL, Status.APPROVED)

    programme = models.ForeignKey(
        "organisations.Programme",
        on_delete=models.CASCADE,
        related_name="shadowing_requests",
        verbose_name=_("programme"),
    )
    requester = models.ForeignKey(
        "organisations.Person",
        on_delete=models.CASCADE,
        related_name="shadowing_requests",
        verbose_name=_("requested by"),
    )
    # The requester's organisation when they asked: the own-organisation rule and fairness count it.
    organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("organisation"),
    )
    learning_goals = models.TextField(
        _("learning goals"),
        max_length=3000,
        validators=[MaxLengthValidator(3000)],
        help_text=_("What you want to learn, and how it helps in your own work."),
    )
    topics = models.ManyToManyField(Topic, related_name="requests", blank=True, verbose_name=_("topics"))
    days = models.PositiveSmallIntegerField(
        _("number of days"), default=1, validators=[MinValueValidator(1), MaxValueValidator(3)]
    )
    consecutive = models.BooleanField(
        _("consecutive days"),
        default=False,
        help_text=_("The days must follow each other (Monday to Friday)."),
    )
    languages = models.JSONField(
        _("languages"), default=list, blank=True, validators=[validate_language_codes]
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING_APPROVAL
    )
    approved_by = models.ForeignKey(
        "organisations.Person",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    # A coordinator who filed the request on the person's behalf (empty when the person asked).
    filed_by = models.ForeignKey(
        "organisations.Person",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("filed on the person's behalf by"),
    )
    decision_note = models.CharField(_("note on the decision"), max_length=NOTE_MAX_LENGTH, blank=True)
    partner = models.OneToOneField(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reciprocal partner"),
        help_text=_(
            "A request from another organisation to be placed together with this one, or not at all."
        ),
    )
    submitted_at = models.DateTimeField(_("submitted at"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires at"), default=default_request_expiry)
    unplaced_code = models.CharField(
        _("why not placed"), max_length=40, blank=True, choices=UnplacedReason.choices
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["submitted_at", "pk"]
        verbose_name = _("shadowing request")
        verbose_name_plural = _("shadowing requests")
        constraints = [
            models.CheckConstraint(condition=Q(days__gte=1) & Q(days__lte=3), name="request_days_in_range"),
            models.CheckConstraint(
                condition=Q(partner__isnull=True) | ~Q(partner=F("pk")), name="request_not_own_partner"
            ),
        ]
        indexes = [
            models.Index(fields=["programme", "status", "submitted_at"], name="request_queue_idx"),
            models.Index(fields=["requester", "status"], name="request_requester_idx"),
            models.Index(fields=["status", "expires_at"], name="request_expiry_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.requester} ({self.get_status_display()})"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN

    @property
    def unplaced_reason(self) -> str:
        """Why the last match left this request out, in the active language ("" when it did not)."""
        return self.unplaced_reason_of(self.unplaced_code)

    @staticmethod
    def unplaced_reason_of(code: str) -> str:
        """``unplaced_reason`` of a request whose ``unplaced_code`` is ``code``."""
        return str(dict(UnplacedReason.choices).get(code, code)) if code else ""


class AvailabilityWindow(TenantModel):
    """A period in which the requester can go shadowing; all days of a placement fall inside one window."""

    tenant_path: ClassVar[str] = "request__programme"

    request = models.ForeignKey(
        ShadowingRequest, on_delete=models.CASCADE, related_name="windows", verbose_name=_("request")
    )
    starts_on = models.DateField(_("from"))
    ends_on = models.DateField(_("until"))

    class Meta:
        ordering = ["starts_on", "pk"]
        verbose_name = _("availability window")
        verbose_name_plural = _("availability windows")
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=F("starts_on")), name="window_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.starts_on:%Y-%m-%d} – {self.ends_on:%Y-%m-%d}"


class Preference(TenantModel):
    """One ranked wish of a request: an organisation or a specific workplace (exactly one of the two)."""

    tenant_path: ClassVar[str] = "request__programme"

    request = models.ForeignKey(
        ShadowingRequest, on_delete=models.CASCADE, related_name="preferences", verbose_name=_("request")
    )
    rank = models.PositiveSmallIntegerField(
        _("rank"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    organisation = models.ForeignKey(
        "organisations.Organisation",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("organisation"),
    )
    workplace = models.ForeignKey(
        Workplace,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="preferences",
        verbose_name=_("workplace"),
    )

    class Meta:
        ordering = ["request", "rank"]
        verbose_name = _("preference")
        verbose_name_plural = _("preferences")
        constraints = [
            models.UniqueConstraint(fields=["request", "rank"], name="preference_unique_rank"),
            models.CheckConstraint(
                condition=Q(rank__gte=1) & Q(rank__lte=5), name="preference_rank_in_range"
            ),
            models.CheckConstraint(
                condition=(Q(organisation__isnull=False) & Q(workplace__isnull=True))
                | (Q(organisation__isnull=True) & Q(workplace__isnull=False)),
                name="preference_organisation_xor_workplace",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rank}. {self.workplace or self.organisation}"
