"""Discussion groups of a conference round: small mixed groups for case work (formed by
``seminars.grouping``) and each participant's place in one."""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from .enrolments import Enrolment
from .rounds import DeepTenantModel, Round


class DiscussionGroup(DeepTenantModel):
    """A small mixed group for case work at a conference round (formed by ``seminars.grouping``)."""

    programme_parent: ClassVar[str] = "round"

    round = models.ForeignKey(Round, on_delete=models.CASCADE, related_name="groups", verbose_name=_("round"))
    number = models.PositiveSmallIntegerField()
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        ordering = ["round", "number"]
        verbose_name = _("discussion group")
        verbose_name_plural = _("discussion groups")
        constraints = [
            models.UniqueConstraint(fields=["round", "number"], name="discussiongroup_unique_number"),
        ]

    def __str__(self) -> str:
        return self.name


class DiscussionGroupMember(DeepTenantModel):
    """A participant's place in a discussion group; one group per participant."""

    programme_parent: ClassVar[str] = "group"

    group = models.ForeignKey(DiscussionGroup, on_delete=models.CASCADE, related_name="members")
    enrolment = models.OneToOneField(Enrolment, on_delete=models.CASCADE, related_name="group_membership")

    class Meta:
        ordering = ["group", "enrolment"]
        verbose_name = _("group member")
        verbose_name_plural = _("group members")

    def __str__(self) -> str:
        return f"{self.enrolment.person} in {self.group}"
