"""The weekly status to management: progress against each target, what changed since last week, and what
needs a decision. One status for the programme (its steering group) and one per organisation (its admins)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.utils.translation import gettext as _

from coordinator.core import formatting
from organisations.models import Programme, Target, WeeklyStatus
from organisations.reports.targets import TargetProgress, progress

# A deadline this close, on a target not yet on track, needs a decision.
DECISION_HORIZON_DAYS = 28


@dataclass
class StatusLine:
    target: Target
    now: TargetProgress

    @property
    def change(self) -> int | None:
        """Percentage points gained in the last seven days."""
        if self.now.percent is None or self.now.percent_week_ago is None:
            return None
        return self.now.percent - self.now.percent_week_ago


@dataclass
class Status:
    programme: Programme
    week_starts_on: date
    today: date
    lines: list[StatusLine]
    decisions: list[str]
    organisation_id: int | None = None


def build(programme: Programme, today: date, *, organisation_id: int | None = None) -> Status:
    """The status as of ``today`` (the whole programme, or as one organisation's admins read it: the
    programme's figures and their own organisation's line). One reading of every measure."""
    targets = list(Target.objects.filter(programme=programme, deadline__gte=today - timedelta(days=7)))
    lines = [
        StatusLine(target, now)
        for target, now in zip(targets, progress(programme, targets, today), strict=True)
    ]
    if organisation_id is not None:
        for line in lines:
            line.now.organisations = [
                o for o in line.now.organisations if o.organisation_id == organisation_id
            ]
    return Status(
        programme=programme,
        week_starts_on=today - timedelta(days=today.weekday()),
        today=today,
        lines=lines,
        decisions=_decisions(lines, today),
        organisation_id=organisation_id,
    )


def _decisions(lines: list[StatusLine], today: date) -> list[str]:
    """What management must decide on: targets that will not be reached by their deadline at the current
    pace, deadlines passed without reaching the target, and targets where nothing moved in four weeks."""
    out = []
    for line in lines:
        target, now = line.target, line.now
        if now.status == "reached" or now.status == "not_started":
            continue
        if target.deadline < today:
            out.append(
                _("%(target)s: the deadline %(deadline)s has passed at %(percent)s %%.")
                % {
                    "target": target.title,
                    "deadline": formatting.day(target.deadline),
                    "percent": now.percent,
                }
            )
        elif now.status == "stalled":
            out.append(_("%(target)s: no progress in the last four weeks.") % {"target": target.title})
        elif now.projected_on is not None and now.projected_on > target.deadline:
            out.append(
                _(
                    "%(target)s: at the current pace reached on %(projected)s, "
                    "after the deadline %(deadline)s."
                )
                % {
                    "target": target.title,
                    "projected": formatting.day(now.projected_on),
                    "deadline": formatting.day(target.deadline),
                }
            )
        if now.behind and target.deadline - today <= timedelta(days=DECISION_HORIZON_DAYS):
            out.append(
                _("%(target)s: behind with %(days)s days left: %(names)s.")
                % {
                    "target": target.title,
                    "days": (target.deadline - today).days,
                    "names": ", ".join(row.name for row in now.behind),
                }
            )
    return out


def as_text(status: Status) -> str:
    """The status as the text of an email, in the active language."""
    out = [
        _("Weekly status of %(programme)s, week of %(week)s")
        % {"programme": status.programme.name, "week": status.week_starts_on.isoformat()},
        "",
        _("Progress against the targets"),
    ]
    if not status.lines:
        out.append("  " + _("No targets are set."))
    for line in status.lines:
        now = line.now
        figure = _("hidden (fewer than 5 people)") if now.percent is None else formatting.percent(now.percent)
        change = "" if line.change is None else f" ({line.change:+d} " + _("this week") + ")"
        out.append(
            f"- {line.target.title}: {figure}{change}; "
            + _("deadline")
            + f" {formatting.day(line.target.deadline)}"
        )
        if now.projected_on is not None:
            out.append(
                "  "
                + _("At the current pace reached on %(date)s.") % {"date": formatting.day(now.projected_on)}
            )
        if status.organisation_id is not None:
            out.extend(
                "  " + _("Your organisation: %(percent)s %%") % {"percent": row.percent}
                for row in now.organisations
                if row.percent is not None
            )
    out += ["", _("Needs a decision")]
    out += [f"- {text}" for text in status.decisions] or ["  " + _("Nothing this week.")]
    return "\n".join(out)


def progress_snapshot(status: Status) -> dict[str, int | None]:
    return {str(line.target.pk): line.now.percent for line in status.lines}


def last_sent(programme: Programme) -> WeeklyStatus | None:
    return WeeklyStatus.objects.filter(programme=programme).order_by("-week_starts_on").first()
