"""What coordinators and the matcher make of requests: a ``MatchingRun``, the ``Placement`` it proposes
(its states and their facts) with its ``PlacementDay`` and ``PlacementEvent`` rows, and what is written
after the visit (``Reflection``, ``HostFeedback``)."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar
from zoneinfo import ZoneInfo

from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from coordinator.core.tenancy import TenantModel
from shadowing.models.shadowing_requests import NOTE_MAX_LENGTH, ShadowingRequest
from shadowing.models.workplaces import Slot, Workplace


class MatchingRun(TenantModel):
    """One automatic match of a programme's approved requests against free slots, and its quality."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Waiting to start")
        SOLVING = "solving", _("Being worked out")
        PROPOSED = "proposed", _("Proposed")
        CONFIRMED = "confirmed", _("Confirmed")
        DISCARDED = "discarded", _("Discarded")
        FAILED = "failed", _("Failed")

    class Phase(models.TextChoices):
        """What a run being worked out is doing: loading and saving by the task, the rest by the solver."""

        LOADING = "loading", _("Reading the requests and free days")
        BOUND = "bound", _("Working out the best possible")
        ROUNDING = "rounding", _("Choosing the visits")
        IMPROVING = "improving", _("Improving the proposal")
        DONE = "done", _("Proposal found")
        SAVING = "saving", _("Saving the proposal")

    # A run waiting for or held by the task queue: at most one per programme (a database constraint).
    ACTIVE: ClassVar[tuple[str, ...]] = (Status.QUEUED, Status.SOLVING)

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
    # Progress while the task works the run out (shown live on its page), and why it failed.
    phase = models.CharField(_("phase"), max_length=12, choices=Phase.choices, blank=True)
    progress_placed = models.PositiveIntegerField(_("placed so far"), default=0)
    progress_gap = models.FloatField(_("current gap"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    # After a confirmation: the placements (by pk, in order) whose people have been told, so that the task
    # telling them, run again after a crash, tells nobody twice.
    notified_through = models.BigIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("matching run")
        verbose_name_plural = _("matching runs")
        indexes = [models.Index(fields=["programme", "status", "created_at"], name="matchingrun_status_idx")]
        constraints = [
            # Two runs of one programme worked out at once would propose the same free days twice.
            models.UniqueConstraint(
                fields=["programme"],
                condition=models.Q(status__in=["queued", "solving"]),
                name="matchingrun_one_active_per_programme",
            )
        ]

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE

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
