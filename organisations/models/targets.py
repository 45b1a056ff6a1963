"""A programme's targets with deadlines, read on the barometer, and the weekly status sent to management."""

from __future__ import annotations

from typing import ClassVar

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from coordinator.core.tenancy import TenantModel

# Goals above this are typing errors (no organisation hosts a million visit days).
MAX_GOAL = 100_000


class Target(TenantModel):
    """What a programme means to reach by a deadline, counted by one of the features' measures
    (``coordinator.core.registry.measures``): "every case officer has the basic PTSD course by 30 June"
    (a share, ``goal`` in per cent), "each organisation hosts at least 10 visit days this year" (a count
    each organisation must reach, ``goal`` in the measure's unit)."""

    tenant_path: ClassVar[str] = "programme"

    programme = models.ForeignKey(
        "organisations.Programme",
        on_delete=models.CASCADE,
        related_name="targets",
        verbose_name=_("programme"),
    )
    title = models.CharField(_("title"), max_length=200)
    measure = models.CharField(_("what is measured"), max_length=60)
    subject_id = models.PositiveBigIntegerField(_("about"), null=True, blank=True)
    work_role = models.ForeignKey(
        "organisations.WorkRole",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="targets",
        verbose_name=_("among the role at work"),
    )
    goal = models.PositiveIntegerField(
        _("goal"), validators=[MinValueValidator(1), MaxValueValidator(MAX_GOAL)]
    )
    starts_on = models.DateField(_("counts from"))
    deadline = models.DateField(_("deadline"))
    created_by = models.ForeignKey(
        "organisations.Person", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["deadline", "title", "pk"]
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        constraints = [
            models.CheckConstraint(
                condition=Q(deadline__gte=F("starts_on")), name="target_deadline_after_start"
            ),
            models.CheckConstraint(
                condition=Q(goal__gte=1) & Q(goal__lte=MAX_GOAL), name="target_goal_in_range"
            ),
        ]

    def __str__(self) -> str:
        return self.title


class WeeklyStatus(TenantModel):
    """One weekly status of a programme, written when it is sent: the row makes the send happen once per
    ISO week however often the job runs, and keeps what was said for the status page."""

    tenant_path: ClassVar[str] = "programme"

    programme = models.ForeignKey(
        "organisations.Programme", on_delete=models.CASCADE, related_name="weekly_statuses"
    )
    week_starts_on = models.DateField(_("week"))
    sent_at = models.DateTimeField(auto_now_add=True)
    recipients = models.PositiveIntegerField(default=0)
    # Progress per target when it was sent (target id -> per cent done), so next week can say what changed.
    progress = models.JSONField(default=dict)

    class Meta:
        ordering = ["-week_starts_on"]
        verbose_name = _("weekly status")
        verbose_name_plural = _("weekly statuses")
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "week_starts_on"], name="weeklystatus_once_per_week"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.programme_id} {self.week_starts_on}"
