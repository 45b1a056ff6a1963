"""Courses: what the programme offers jointly, who gives it, whom it targets, what it requires first and
when a participant counts as having completed it."""

from __future__ import annotations

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from coordinator.core.tenancy import TenantModel

language_code_validator = RegexValidator(r"^[a-z]{2,3}$", _("Give a language code such as sv, da or en."))


class Course(TenantModel):
    """A course or seminar the programme offers jointly; it runs in one or more rounds."""

    class CompletionRule(models.TextChoices):
        ATTENDANCE = "attendance", _("On attendance")
        ASSESSMENT = "assessment", _("After a passed assessment")

    programme = models.ForeignKey(
        "organisations.Programme",
        on_delete=models.CASCADE,
        related_name="courses",
        verbose_name=_("programme"),
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), max_length=5000, blank=True)
    providers = models.ManyToManyField(
        "organisations.Organisation",
        related_name="provided_courses",
        verbose_name=_("given by"),
        help_text=_("The organisations that give the course; their course providers mark attendance."),
    )
    # A course may be given by units rather than whole organisations (sfi of Malmö stad): where it names
    # units of an organisation, only that organisation's course providers in those units teach it.
    provider_units = models.ManyToManyField(
        "organisations.Unit",
        related_name="provided_courses",
        blank=True,
        verbose_name=_("given by the units"),
        help_text=_(
            "Units of the providing organisations that give the course; empty: the whole organisation."
        ),
    )
    target_roles = models.ManyToManyField(
        "organisations.WorkRole",
        related_name="targeted_courses",
        blank=True,
        verbose_name=_("target roles"),
        help_text=_(
            "Roles at work the course is mainly for; each round says whether they get priority or "
            "exclusivity."
        ),
    )
    prerequisites = models.ManyToManyField(
        "self",
        symmetrical=False,
        related_name="required_for",
        blank=True,
        verbose_name=_("prerequisites"),
        help_text=_("Courses a person must have completed before enrolling."),
    )
    language = models.CharField(
        _("language"),
        max_length=3,
        default="sv",
        validators=[language_code_validator],
        help_text=_("The language the course is given in (sv, da, en, ...)."),
    )
    completion_rule = models.CharField(
        _("counts as completed"),
        max_length=16,
        choices=CompletionRule.choices,
        default=CompletionRule.ATTENDANCE,
    )
    attendance_required_percent = models.PositiveSmallIntegerField(
        _("attendance required (%)"),
        default=100,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text=_("For completion on attendance: the share of the round's sessions a person must attend."),
    )
    is_archived = models.BooleanField(_("archived"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["title"]
        verbose_name = _("course")
        verbose_name_plural = _("courses")
        constraints = [
            models.UniqueConstraint(fields=["programme", "title"], name="course_unique_title_per_programme"),
            models.CheckConstraint(
                condition=Q(attendance_required_percent__gte=1) & Q(attendance_required_percent__lte=100),
                name="course_attendance_percent_in_range",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def sessions_needed(self, session_count: int) -> int:
        """How many of a round's ``session_count`` sessions a participant must attend to complete the course
        on attendance: the required share, rounded up."""
        return -(-session_count * self.attendance_required_percent // 100)
