"""Joint seminars and courses: courses, their rounds and sessions, seats, waiting lists and completions.

The shape of the data, one module per part of it (every name is importable from ``seminars.models``):

- ``courses``: a ``Course`` (the PTSD course, the mapping-methodology course, a kick-off conference) belongs
  to a programme, is given by one or more provider organisations, may target roles at work and require
  other courses to have been completed first.
- ``rounds``: a ``Round`` is one run of a course with a capacity, a registration window and a cancellation
  deadline. It has one or more ``Session`` rows (days or half-days, each with its own time and place or
  online link) and optional per-organisation ``OrganisationQuota`` rows. ``Round.seats_taken`` counts the
  enrolments that hold a seat; it changes only in ``seminars.services`` under the round's lock, and a
  CHECK constraint makes overbooking impossible. ``DeepTenantModel`` is the base of the rows below a round.
- ``enrolments``: an ``Enrolment`` is one person's booking on a round. Its ``status`` says whether it holds
  a seat (``pending_approval``, ``confirmed``, ``offered``), queues for one (``waiting``) or has ended. A
  person has at most one active enrolment per round (a partial unique constraint); ended enrolments stay
  as history. ``Attendance`` (enrolment × session) and ``Completion`` (person × course) record what
  happened; completions feed the person's history and the prerequisite checks. ``InviteSequence`` keeps
  the iCalendar SEQUENCE of each person's copy of each session. The notification kinds live here too.
- ``costs``: a round's costs (``RoundCost``), for the financing report.
- ``groups``: for conferences, ``DiscussionGroup`` rows and their members.
"""

from __future__ import annotations

from .costs import COST_KINDS, RoundCost
from .courses import Course, language_code_validator
from .enrolments import (
    KIND_APPROVAL,
    KIND_COMPLETION,
    KIND_ENROLMENT,
    KIND_OFFER,
    Attendance,
    Completion,
    Enrolment,
    InviteSequence,
)
from .groups import DiscussionGroup, DiscussionGroupMember
from .rounds import DeepTenantModel, OrganisationQuota, Round, Session, default_offer_hold_hours

__all__ = [
    "COST_KINDS",
    "KIND_APPROVAL",
    "KIND_COMPLETION",
    "KIND_ENROLMENT",
    "KIND_OFFER",
    "Attendance",
    "Completion",
    "Course",
    "DeepTenantModel",
    "DiscussionGroup",
    "DiscussionGroupMember",
    "Enrolment",
    "InviteSequence",
    "OrganisationQuota",
    "Round",
    "RoundCost",
    "Session",
    "default_offer_hold_hours",
    "language_code_validator",
]
