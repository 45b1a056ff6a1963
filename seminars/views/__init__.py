"""Pages of the seminars app, one module per role: ``staff`` (catalogue, bookings), ``approvals`` (line
managers), ``teaching`` (course providers), ``courses`` and ``planning`` (coordinators).

Thin views: they read through ``seminars.selectors``, write through ``seminars.services``, compute the
permission flags the templates show (``can_manage``, ``can_teach``...) and let the services check again.
"""
