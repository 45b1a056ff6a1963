"""Programmes (the tenant), the organisations taking part in them, their units, people and roles."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from decimal import Decimal
from typing import ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from coordinator.core.days_off import Country
from coordinator.core.formatting import currency_of
from coordinator.core.tenancy import TenantModel
from coordinator.core.validators import AMOUNT

UI_LANGUAGES = [("sv", _("Swedish")), ("da", _("Danish")), ("en", _("English"))]


# What the platform shows, and writes into kept records, in place of an erased person's name.
FORMER_MEMBER = _("Former member")


def new_calendar_token() -> str:
    """A random token in the form the first migration gave every person (kept for that migration)."""
    return secrets.token_urlsafe(32)


# A person's calendar feed address is derived, not stored: the token is an HMAC of a random per-person nonce
# under a key derived from SECRET_KEY, and the database keeps only the nonce and the token's SHA-256. The
# server can show the address again at any time, while a copy of the database alone opens no feed.
CALENDAR_TOKEN_SALT = "organisations.Person.calendar_token"  # noqa: S105 - a salt naming the purpose, no secret


def new_calendar_nonce() -> str:
    return secrets.token_hex(16)


def calendar_token_for(nonce: str, secret: str | bytes | None = None) -> str:
    """The feed token of a nonce: 64 hex characters, which only the holder of SECRET_KEY can compute."""
    return salted_hmac(CALENDAR_TOKEN_SALT, nonce, secret=secret, algorithm="sha256").hexdigest()


def calendar_token_digest(token: str) -> str:
    """What the database keeps of a feed token, and what the feed looks a presented token up by."""
    return hashlib.sha256(token.encode()).hexdigest()


def validate_time_zone(value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # (OSError: a name too long for a file)
        raise ValidationError(_("%(value)s is not a known time zone."), params={"value": value}) from exc


def validate_language_codes(value: object) -> None:
    """A list of up to 20 ISO 639 language codes such as ["sv", "ar", "en"]."""
    if (
        not isinstance(value, list)
        or len(value) > 20
        or not all(isinstance(code, str) and re.fullmatch(r"[a-z]{2,3}", code) for code in value)
    ):
        raise ValidationError(
            _("Give a list of up to 20 language codes such as sv, da, en, ar."), code="invalid_languages"
        )


class OwnRule(models.TextChoices):
    """The level at which the own-organisation rule of shadowing applies."""

    ORGANISATION = "organisation", _("the person's own organisation")
    UNIT = "unit", _("the person's own unit (other units of the same organisation are allowed)")


class Programme(TenantModel):
    """A collaboration of agencies (e.g. Malmö's local competence development programme): the tenant."""

    tenant_path: ClassVar[str] = "pk"

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("short name in addresses"), max_length=60, unique=True)
    description = models.TextField(_("description"), max_length=5000, blank=True)
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        default="Europe/Stockholm",
        validators=[validate_time_zone],
        help_text=_("An IANA time zone such as Europe/Stockholm or Europe/Copenhagen."),
    )
    language = models.CharField(_("language"), max_length=2, choices=UI_LANGUAGES, default="sv")
    country = models.CharField(
        _("country"),
        max_length=2,
        choices=Country.choices,
        default=Country.SWEDEN,
        blank=True,
        help_text=_(
            "Its public holidays and days off are not offered for visits, and warned of for courses."
        ),
    )
    coordinator_email = models.EmailField(
        _("coordinator mailbox"),
        blank=True,
        help_text=_("Shown as the organiser of calendar invites and used as the reply address."),
    )
    own_rule = models.CharField(
        _("shadowing is never at"),
        max_length=16,
        choices=OwnRule.choices,
        default=OwnRule.ORGANISATION,
        help_text=_(
            "Whether staff may shadow at another unit of their own organisation (for a large municipality) "
            "or only at another organisation."
        ),
    )
    matching_closes_gaps = models.BooleanField(
        _("matching weighs competence gaps"),
        default=False,
        help_text=_(
            "The matcher prefers, among equally wanted visits, workplaces at a kind of agency that would "
            "give the person a competence their role's profile asks for and they lack."
        ),
    )
    follow_up_months = models.PositiveSmallIntegerField(
        _("follow up after (months)"),
        default=3,
        validators=[MaxValueValidator(24)],
        help_text=_(
            "How long after a course or a visit the person and their manager are asked whether it made a "
            "difference; 0 asks nobody."
        ),
    )
    # The staff time of one visit day, added for each day in the cost reports (the settings form explains it).
    visit_day_cost = models.DecimalField(_("standard cost of a visit day"), null=True, blank=True, **AMOUNT)
    created_at = models.DateTimeField(auto_now_add=True)
    # An archived programme is read-only everywhere and still readable and exportable.
    archived_at = models.DateTimeField(_("archived at"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("programme")
        verbose_name_plural = _("programmes")

    def __str__(self) -> str:
        return self.name

    @property
    def organizer_email(self) -> str:
        return self.coordinator_email or settings.DEFAULT_ORGANIZER_EMAIL

    @property
    def is_archived(self) -> bool:
        return self.archived_at is not None

    @property
    def currency(self) -> str:
        """The currency the programme's costs are in (ISO 4217): its country's."""
        return currency_of(self.country, self.language)


class Funder(TenantModel):
    """Who pays for the programme's joint activities, and what share (Malmö stad 75 %, Equal 25 %)."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="funders")
    name = models.CharField(_("name"), max_length=200)
    share_percent = models.DecimalField(
        _("share (%)"),
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("100"))],
    )

    class Meta:
        ordering = ["-share_percent", "name"]
        verbose_name = _("funder")
        verbose_name_plural = _("funders")
        constraints = [
            models.UniqueConstraint(fields=["programme", "name"], name="funder_unique_name_per_programme"),
            models.CheckConstraint(
                condition=Q(share_percent__gt=0) & Q(share_percent__lte=100), name="funder_share_in_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.share_percent} %)"


class OrganisationKind(models.TextChoices):
    STATE_AGENCY = "state_agency", _("State agency")
    MUNICIPALITY = "municipality", _("Municipality")
    REGION = "region", _("Region / healthcare")
    NGO = "ngo", _("Non-governmental organisation")
    SCHOOL = "school", _("School")
    UNIVERSITY = "university", _("University")
    EMPLOYMENT_SERVICE = "employment_service", _("Employment service")


class Organisation(TenantModel):
    """An agency or organisation. It may take part in several programmes (see ``Participation``)."""

    tenant_path: ClassVar[str] = "participations__programme"
    tenant_path_is_multi: ClassVar[bool] = True

    name = models.CharField(_("name"), max_length=200, unique=True)
    short_name = models.CharField(_("short name"), max_length=40)
    kind = models.CharField(_("kind"), max_length=32, choices=OrganisationKind.choices)
    website = models.URLField(_("website"), blank=True)
    programmes = models.ManyToManyField(Programme, through="Participation", related_name="organisations")

    class Meta:
        ordering = ["name"]
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def __str__(self) -> str:
        return self.name


class Participation(TenantModel):
    """An organisation's taking part in a programme."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="participations")
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="participations")
    joined_on = models.DateField(_("joined on"), null=True, blank=True)

    class Meta:
        ordering = ["organisation__name"]
        verbose_name = _("participation")
        verbose_name_plural = _("participations")
        constraints = [
            models.UniqueConstraint(fields=["programme", "organisation"], name="participation_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} in {self.programme}"


class ParticipationInvitation(TenantModel):
    """A programme's invitation to an agency already on the platform to take part; the agency's own admins
    accept or decline it. Only the inviting programme and the agency's admins see it."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for the agency")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    programme = models.ForeignKey(
        Programme, on_delete=models.CASCADE, related_name="participation_invitations"
    )
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="invitations")
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    message = models.TextField(_("message"), max_length=2000, blank=True)
    invited_by = models.ForeignKey(
        "Person", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    answered_by = models.ForeignKey(
        "Person", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("invitation to take part")
        verbose_name_plural = _("invitations to take part")
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "organisation"],
                condition=Q(status="pending"),
                name="participationinvitation_one_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organisation} invited to {self.programme}"


class Unit(TenantModel):
    """A department or office of an organisation (e.g. Malmö stad's introduction services in Rosengård)."""

    tenant_path: ClassVar[str] = "organisation__participations__programme"
    tenant_path_is_multi: ClassVar[bool] = True

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="units")
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("part of"),
    )
    name = models.CharField(_("name"), max_length=200)
    # The programme whose work the unit was created for: that programme's admins may change it; no other
    # programme's admins may (the organisation's own admins always may). Empty for units the organisation
    # keeps itself.
    created_in = models.ForeignKey(
        Programme,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("created for the work of"),
    )
    description = models.TextField(_("description"), max_length=5000, blank=True)
    street_address = models.CharField(_("street address"), max_length=200, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)

    class Meta:
        ordering = ["organisation__name", "name"]
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "name"], name="unit_unique_name_per_organisation"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.organisation.short_name})"

    @property
    def address(self) -> str:
        return self.address_of(self.street_address, self.postal_code, self.city)

    @staticmethod
    def address_of(street_address: str, postal_code: str, city: str) -> str:
        """The address on one line, from its three columns (also for lists written from values)."""
        return ", ".join(part for part in (street_address, f"{postal_code} {city}".strip()) if part)


class WorkRole(TenantModel):
    """A role at work in a programme's controlled list: case officer, introduction secretary, counsellor..."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="work_roles")
    code = models.SlugField(_("code"), max_length=60)
    name = models.CharField(_("name"), max_length=120)

    class Meta:
        ordering = ["name"]
        verbose_name = _("role at work")
        verbose_name_plural = _("roles at work")
        constraints = [
            models.UniqueConstraint(fields=["programme", "code"], name="workrole_unique_code_per_programme"),
        ]

    def __str__(self) -> str:
        return self.name


class Person(TenantModel):
    """A member of staff: the profile on a Django user. Belongs to one organisation."""

    tenant_path: ClassVar[str] = "memberships__programme"
    tenant_path_is_multi: ClassVar[bool] = True

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="person")
    organisation = models.ForeignKey(Organisation, on_delete=models.PROTECT, related_name="people")
    unit = models.ForeignKey(Unit, on_delete=models.SET_NULL, null=True, blank=True, related_name="people")
    job_title = models.CharField(_("job title"), max_length=200, blank=True)
    line_manager = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reports",
        verbose_name=_("line manager"),
    )
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    languages = models.JSONField(
        _("languages spoken"), default=list, blank=True, validators=[validate_language_codes]
    )
    preferred_language = models.CharField(
        _("preferred interface language"), max_length=2, choices=UI_LANGUAGES, blank=True
    )
    # Never on the audit trail (organisations/hooks.py). The legacy digest keeps the address a person had
    # before tokens were derived working until they renew it.
    calendar_nonce = models.CharField(max_length=32, default=new_calendar_nonce, editable=False)
    calendar_token_hash = models.CharField(max_length=64, unique=True, editable=False)
    # NULL, not "": many people have no legacy address, and NULLs do not collide in a unique index.
    legacy_calendar_token_hash = models.CharField(  # noqa: DJ001
        max_length=64, unique=True, null=True, editable=False
    )
    # Set when the person's identifying data was erased (organisations.services.personal_data): the row
    # stays so that what they took part in keeps its counts and history, shown as a former member.
    erased_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["user__last_name", "user__first_name"]
        verbose_name = _("person")
        verbose_name_plural = _("people")
        constraints = [
            models.CheckConstraint(condition=~Q(line_manager=models.F("pk")), name="person_not_own_manager"),
        ]

    def __str__(self) -> str:
        return self.full_name

    def save(
        self,
        *,
        force_insert: bool | tuple[models.base.ModelBase, ...] = False,
        force_update: bool = False,
        using: str | None = None,
        update_fields: Iterable[str] | None = None,
    ) -> None:
        if not self.calendar_token_hash:  # a new person (bulk_create skips this: call renew_calendar_address)
            self.renew_calendar_address()
        super().save(
            force_insert=force_insert, force_update=force_update, using=using, update_fields=update_fields
        )

    @property
    def calendar_token(self) -> str:
        """The secret of this person's feed address, computed from the nonce; the database does not hold it.

        After SECRET_KEY is changed, an address made with a key in SECRET_KEY_FALLBACKS is still the one
        shown (its digest is the stored one), until the person renews it or the fallback is removed.
        """
        token = calendar_token_for(self.calendar_nonce)
        if calendar_token_digest(token) != self.calendar_token_hash:
            for secret in settings.SECRET_KEY_FALLBACKS:
                older = calendar_token_for(self.calendar_nonce, secret)
                if calendar_token_digest(older) == self.calendar_token_hash:
                    return older
        return token

    def renew_calendar_address(self) -> None:
        """A new nonce, hence a new feed address; every earlier address stops working once saved."""
        self.calendar_nonce = new_calendar_nonce()
        self.calendar_token_hash = calendar_token_digest(calendar_token_for(self.calendar_nonce))
        self.legacy_calendar_token_hash = None

    @property
    def full_name(self) -> str:
        if self.erased_at is not None:
            return str(FORMER_MEMBER)
        return self.user.get_full_name() or self.user.get_username()

    @property
    def email(self) -> str:
        return self.user.email

    def language_in(self, programme: Programme) -> str:
        """The language this person reads in a programme: their own choice, else the programme's."""
        return self.preferred_language or programme.language or settings.LANGUAGE_CODE


class PlatformRole(models.TextChoices):
    PROGRAMME_ADMIN = "programme_admin", _("Programme admin")
    COORDINATOR = "coordinator", _("Coordinator")
    ORGANISATION_ADMIN = "organisation_admin", _("Organisation admin")
    HOST_CONTACT = "host_contact", _("Host contact")
    COURSE_PROVIDER = "course_provider", _("Course provider")
    FOCUS_GROUP_CONVENER = "focus_group_convener", _("Focus-group convener")
    STAFF = "staff", _("Staff member")
    LINE_MANAGER = "line_manager", _("Line manager")
    # Management that steers the programme: reads the barometer and gets the weekly status.
    STEERING_GROUP = "steering_group", _("Steering group member")


class Membership(TenantModel):
    """A person's place in a programme: their role at work there and their platform roles."""

    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="memberships")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="memberships")
    work_role = models.ForeignKey(
        WorkRole,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="memberships",
        verbose_name=_("role at work"),
    )
    is_active = models.BooleanField(_("active"), default=True)
    joined_at = models.DateTimeField(auto_now_add=True)
    # When the membership last ended; the retention period for personal data runs from here.
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["programme__name"]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(fields=["programme", "person"], name="membership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.person} in {self.programme}"

    def save(
        self,
        *,
        force_insert: bool | tuple[models.base.ModelBase, ...] = False,
        force_update: bool = False,
        using: str | None = None,
        update_fields: Iterable[str] | None = None,
    ) -> None:
        # Whoever ends a membership (a service, the admin site), the end is dated: retention counts from it.
        ended_at = None if self.is_active else (self.ended_at or timezone.now())
        if ended_at != self.ended_at:
            self.ended_at = ended_at
            if update_fields is not None:
                update_fields = {*update_fields, "ended_at"}
        super().save(
            force_insert=force_insert, force_update=force_update, using=using, update_fields=update_fields
        )


class RoleAssignment(TenantModel):
    """One platform role held by a member in a programme."""

    tenant_path: ClassVar[str] = "membership__programme"

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="role_assignments")
    role = models.CharField(_("role"), max_length=32, choices=PlatformRole.choices)
    granted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["role"]
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        constraints = [
            models.UniqueConstraint(fields=["membership", "role"], name="roleassignment_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.membership.person}: {self.get_role_display()}"


class AuditEntryProgramme(TenantModel):
    """One programme an audit-trail entry belongs to, so that each programme's admins read their own trail.

    Written when django-auditlog writes the entry, from the programmes the row belonged to at that moment
    (``TenantModel.get_additional_data``): a programme's own rows name it; an organisation, unit or person
    names every programme it takes part in, so a change to a shared row is shown to the admins of each.
    """

    log_entry = models.ForeignKey(
        "auditlog.LogEntry", on_delete=models.CASCADE, related_name="programme_links"
    )
    programme = models.ForeignKey(Programme, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("audit entry programme")
        verbose_name_plural = _("audit entry programmes")
        constraints = [
            models.UniqueConstraint(fields=["log_entry", "programme"], name="auditentryprogramme_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.log_entry_id} in {self.programme_id}"


# Sign-in models live in their own module; imported last, as they refer to the models above.
from organisations.models.accounts import (  # noqa: E402
    ExternalIdentity,
    IdentityProvider,
    Invitation,
    invitation_token_digest,
)
from organisations.models.competence import (  # noqa: E402
    Competence,
    CompetenceConfirmation,
    CompetenceSource,
    ProfileCompetence,
    ProfileLevel,
)
from organisations.models.followups import Expectation, FollowUp  # noqa: E402
from organisations.models.targets import Target, WeeklyStatus  # noqa: E402

__all__ = [
    "Competence",
    "CompetenceConfirmation",
    "CompetenceSource",
    "ExternalIdentity",
    "IdentityProvider",
    "Invitation",
    "ProfileCompetence",
    "ProfileLevel",
    "Expectation",
    "FollowUp",
    "Target",
    "WeeklyStatus",
    "invitation_token_digest",
]
