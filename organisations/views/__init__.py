"""Pages of the organisations app, one module per part: ``agencies`` (organisations, units, invitations),
``programme`` (settings, archive, roles at work, onboarding checklist), ``platform`` (starting and archiving
programmes), ``audit`` (the audit trail)."""
