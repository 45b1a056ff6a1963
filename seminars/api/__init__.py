"""API of the seminars app (thin: parse, call a service or selector, serialise), one module per workflow:
``courses`` (courses, rounds, sessions), ``seats`` (quotas, enrolments, waiting list) and ``records``
(completions, groups, costs)."""
