"""Scoped reads of the seminars app, one module per workflow: ``catalogue``, ``participation``,
``teaching`` and ``reports``.

Every function runs inside the tenant scope of the request (or ``unscoped()`` in periodic jobs) and adds the
within-programme rules on top. The lists use a fixed number of queries whatever their length.
"""
