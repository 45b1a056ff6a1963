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

The models live in one module per part of that shape (``workplaces``, ``shadowing_requests``,
``placements``); Django, the migrations and the API schema settings read them from here.
"""

from shadowing.models.costs import VISIT_COST_KINDS, PlacementCost
from shadowing.models.placements import (
    HostFeedback,
    MatchingRun,
    Placement,
    PlacementDay,
    PlacementEvent,
    Reflection,
)
from shadowing.models.shadowing_requests import (
    NOTE_MAX_LENGTH,
    AvailabilityWindow,
    Preference,
    ShadowingRequest,
    UnplacedReason,
    default_request_expiry,
)
from shadowing.models.workplaces import MAX_SLOT_CAPACITY, Slot, Topic, Workplace

__all__ = [
    "MAX_SLOT_CAPACITY",
    "NOTE_MAX_LENGTH",
    "AvailabilityWindow",
    "HostFeedback",
    "MatchingRun",
    "Placement",
    "PlacementDay",
    "PlacementCost",
    "PlacementEvent",
    "Preference",
    "Reflection",
    "ShadowingRequest",
    "Slot",
    "Topic",
    "VISIT_COST_KINDS",
    "UnplacedReason",
    "Workplace",
    "default_request_expiry",
]

# Named at module level for the API schema's enum naming (settings.SPECTACULAR_SETTINGS).
REQUEST_STATUSES = ShadowingRequest.Status
PLACEMENT_STATUSES = Placement.Status
RUN_STATUSES = MatchingRun.Status
