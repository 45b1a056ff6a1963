"""Job shadowing: host workplaces, their bookable days, requests to shadow, matching runs and placements.

The shape of the data:

- A ``Workplace`` belongs to a programme and to one of its organisations (optionally a unit). Its host
  contacts and the organisation's admins edit it (derived from their roles: ``shadowing.permissions``);
  everyone in the programme sees it once it is published. It offers ``Topic`` rows from the programme's
  controlled list.
- A ``Slot`` is one bookable visit day at a workplace with a time span and a capacity of 1–3 visitors.
  ``Slot.booked`` counts the placement days that hold a seat (see ``Placement.SEAT_HOLDING``). Every change
  of it happens in ``shadowing.services`` while the slot rows are locked in primary-key order, and a CHECK
  constraint (``booked <= capacity``) makes overbooking impossible even for a path that forgot the lock.
- A ``ShadowingRequest`` is a staff member's wish to shadow for 1–3 days, with ``AvailabilityWindow`` rows
  (when they can go) and up to five ranked ``Preference`` rows (an organisation or a specific workplace).
  Their line manager approves it; only approved requests are matched. Two requests may form a reciprocal
  pair (each ``partner`` points at the other): the matcher places both or neither.
- A ``MatchingRun`` is one automatic match by a coordinator: it proposes ``Placement`` rows (status
  ``proposed``, holding no seat) and records the solver's objective, LP bound and gap. Confirming the run
  books the seats and sends the proposals to the hosts.
- A ``Placement`` is one request placed at one workplace for one or more ``PlacementDay`` rows. It moves
  through the states of ``Placement.Status``; each transition writes a ``PlacementEvent``. After the visit
  the shadower writes a ``Reflection`` (what was learned, used and shared) and the host ``HostFeedback``.
"""

from __future__ import annotations

import datetime as dt
from datetime import timedelta
from typing import ClassVar
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from coordinator.core.tenancy import TenantModel
from organisations.models import validate_language_codes

# A note or reason someone types (a decision note, why a host declined, why a visit was cancelled).
NOTE_MAX_LENGTH = 1000
# The most visitors one slot takes.
MAX_SLOT_CAPACITY = 3


def default_request_expiry() -> dt.datetime:
    """When a request submitted now lapses if it is still unplaced (``SHADOWING_REQUEST_EXPIRY_DAYS``)."""
    return timezone.now() + timedelta(days=int(settings.SHADOWING_REQUEST_EXPIRY_DAYS))


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
        return max(0, self.capacity - self.booked)


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
        return str(self.get_unplaced_code_display()) if self.unplaced_code else ""


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


class MatchingRun(TenantModel):
    """One automatic match of a programme's approved requests against free slots, and its quality."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Proposed")
        CONFIRMED = "confirmed", _("Confirmed")
        DISCARDED = "discarded", _("Discarded")

    programme = models.ForeignKey(
        "organisations.Programme",
        on_delete=models.CASCADE,
        related_name="matching_runs",
        verbose_name=_("programme"),
    )
    created_by = models.ForeignKey(
        "organisations.Person", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.PROPOSED)
    fairness_weight = models.FloatField(_("fairness weight"), default=0.0)
    objective = models.FloatField(_("objective"), default=0.0)
    bound = models.FloatField(_("upper bound (LP relaxation)"), default=0.0)
    gap = models.FloatField(_("gap"), default=0.0)
    placed = models.PositiveIntegerField(_("people placed"), default=0)
    requests_considered = models.PositiveIntegerField(_("requests considered"), default=0)
    greedy_placed = models.PositiveIntegerField(_("placed first-come-first-served"), default=0)
    method = models.CharField(_("method"), max_length=60, blank=True)
    seconds = models.FloatField(_("seconds"), default=0.0)
    confirmed_by = models.ForeignKey(
        "organisations.Person", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # Why each considered request was left out of the proposal: {request id: reason code}.
    unplaced = models.JSONField(default=dict, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("matching run")
        verbose_name_plural = _("matching runs")
        indexes = [models.Index(fields=["programme", "status", "created_at"], name="matchingrun_status_idx")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} ({self.get_status_display()})"


class Placement(TenantModel):
    """A request placed at a workplace for one or more days, and where it stands."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("Proposed (not yet confirmed by the coordinator)")
        AWAITING_HOST = "awaiting_host", _("Waiting for the host")
        HOST_DECLINED = "host_declined", _("Declined by the host")
        HOST_ACCEPTED = "host_accepted", _("Accepted by the host")
        CONFIRMED = "confirmed", _("Confirmed")
        VISITED = "visited", _("Visited")
        REFLECTED = "reflected", _("Reflection written")
        CANCELLED = "cancelled", _("Cancelled")

    # Placements whose days count in ``Slot.booked`` (a proposal in an unconfirmed run holds no seat).
    SEAT_HOLDING: ClassVar[tuple[str, ...]] = (
        Status.AWAITING_HOST,
        Status.HOST_ACCEPTED,
        Status.CONFIRMED,
        Status.VISITED,
        Status.REFLECTED,
    )
    # Placements the shadower, the host or a coordinator may still cancel (the visit has not happened).
    CANCELLABLE: ClassVar[tuple[str, ...]] = (Status.AWAITING_HOST, Status.HOST_ACCEPTED, Status.CONFIRMED)
    # Visits made or confirmed: in the calendars, on the overview and in the reports.
    VISITS: ClassVar[tuple[str, ...]] = (Status.CONFIRMED, Status.VISITED, Status.REFLECTED)
    # After the visit: the shadower's reflection and the host's feedback belong to these.
    AFTER_VISIT: ClassVar[tuple[str, ...]] = (Status.VISITED, Status.REFLECTED)

    programme = models.ForeignKey(
        "organisations.Programme",
        on_delete=models.CASCADE,
        related_name="placements",
        verbose_name=_("programme"),
    )
    request = models.ForeignKey(
        ShadowingRequest, on_delete=models.CASCADE, related_name="placements", verbose_name=_("request")
    )
    workplace = models.ForeignKey(
        Workplace, on_delete=models.PROTECT, related_name="placements", verbose_name=_("workplace")
    )
    run = models.ForeignKey(
        MatchingRun,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="placements",
        verbose_name=_("matching run"),
        help_text=_("Empty for a placement a coordinator made by hand."),
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PROPOSED)
    # The iCalendar SEQUENCE of the invites for this placement's days; raised on every update or cancel.
    sequence = models.PositiveIntegerField(default=0, editable=False)
    confidentiality_accepted_at = models.DateTimeField(
        _("confidentiality accepted at"), null=True, blank=True
    )
    decline_reason = models.CharField(_("why the host declined"), max_length=NOTE_MAX_LENGTH, blank=True)
    cancel_reason = models.CharField(_("why it was cancelled"), max_length=NOTE_MAX_LENGTH, blank=True)
    cancelled_by = models.ForeignKey(
        "organisations.Person", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("placement")
        verbose_name_plural = _("placements")
        constraints = [
            # A request holds at most one live placement; proposals of different runs may coexist.
            models.UniqueConstraint(
                fields=["request"],
                condition=Q(
                    status__in=["awaiting_host", "host_accepted", "confirmed", "visited", "reflected"]
                ),
                name="placement_one_live_per_request",
            ),
            models.UniqueConstraint(
                fields=["run", "request"],
                condition=Q(run__isnull=False),
                name="placement_once_per_run",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["confirmed", "visited", "reflected"])
                | Q(confidentiality_accepted_at__isnull=False),
                name="placement_confirmed_accepts_confidentiality",
            ),
        ]
        indexes = [
            models.Index(fields=["programme", "status"], name="placement_status_idx"),
            models.Index(fields=["workplace", "status"], name="placement_workplace_idx"),
            models.Index(fields=["request", "status"], name="placement_request_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.request.requester} @ {self.workplace} ({self.get_status_display()})"

    def last_day_ended(self) -> bool:
        """Whether the end of the last visit day has passed, in the programme's time zone (a placement
        without days counts as over). Reads the days through ``days.all()`` (prefetched where listed)."""
        days = list(self.days.all())
        if not days:
            return True
        last = max(days, key=lambda d: (d.date, d.ends_at))
        zone = ZoneInfo(self.programme.time_zone)
        return timezone.now() >= dt.datetime.combine(last.date, last.ends_at, tzinfo=zone)


class PlacementDay(TenantModel):
    """One day of a placement: the slot it books, and a copy of its date and times.

    The copy keeps the history (and the cancellation invite) intact when a booked slot is deleted: the
    slot link is then cleared while the day stays on the cancelled placement.
    """

    tenant_path: ClassVar[str] = "placement__programme"

    placement = models.ForeignKey(
        Placement, on_delete=models.CASCADE, related_name="days", verbose_name=_("placement")
    )
    slot = models.ForeignKey(
        Slot, on_delete=models.SET_NULL, null=True, blank=True, related_name="placement_days"
    )
    date = models.DateField(_("date"))
    starts_at = models.TimeField(_("starts"))
    ends_at = models.TimeField(_("ends"))

    class Meta:
        ordering = ["date", "starts_at", "pk"]
        verbose_name = _("placement day")
        verbose_name_plural = _("placement days")
        constraints = [
            models.UniqueConstraint(fields=["placement", "slot"], name="placementday_unique_slot"),
        ]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {self.starts_at:%H:%M}–{self.ends_at:%H:%M}"


class PlacementEvent(TenantModel):
    """One transition of a placement: from which state to which, by whom, when and why."""

    tenant_path: ClassVar[str] = "placement__programme"

    placement = models.ForeignKey(Placement, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=16, choices=Placement.Status.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=Placement.Status.choices)
    actor = models.ForeignKey(
        "organisations.Person", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    at = models.DateTimeField(default=timezone.now)
    note = models.CharField(max_length=NOTE_MAX_LENGTH, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("placement event")
        verbose_name_plural = _("placement events")
        indexes = [models.Index(fields=["placement", "at"], name="placementevent_idx")]

    def __str__(self) -> str:
        return f"{self.from_status or '–'} → {self.to_status}"


class Reflection(TenantModel):
    """What the shadower learned, how they will use it and how they shared it (transfer)."""

    tenant_path: ClassVar[str] = "placement__programme"

    placement = models.OneToOneField(Placement, on_delete=models.CASCADE, related_name="reflection")
    learned = models.TextField(_("what I learned"), max_length=5000, validators=[MaxLengthValidator(5000)])
    how_used = models.TextField(
        _("how I will use it in my work"), max_length=5000, validators=[MaxLengthValidator(5000)]
    )
    how_shared = models.TextField(
        _("how I shared it with colleagues"),
        max_length=5000,
        validators=[MaxLengthValidator(5000)],
        blank=True,
    )
    submitted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-submitted_at", "pk"]
        verbose_name = _("reflection")
        verbose_name_plural = _("reflections")

    def __str__(self) -> str:
        return f"{self.placement}"


class HostFeedback(TenantModel):
    """The host's brief feedback on a visit."""

    tenant_path: ClassVar[str] = "placement__programme"

    placement = models.OneToOneField(Placement, on_delete=models.CASCADE, related_name="host_feedback")
    feedback = models.TextField(_("feedback"), max_length=3000, validators=[MaxLengthValidator(3000)])
    author = models.ForeignKey(
        "organisations.Person", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    submitted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-submitted_at", "pk"]
        verbose_name = _("host feedback")
        verbose_name_plural = _("host feedback")

    def __str__(self) -> str:
        return f"{self.placement}"


# Named at module level for the API schema's enum naming (settings.SPECTACULAR_SETTINGS).
REQUEST_STATUSES = ShadowingRequest.Status
PLACEMENT_STATUSES = Placement.Status
RUN_STATUSES = MatchingRun.Status
