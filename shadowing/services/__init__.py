"""Every write of the shadowing app, one module per workflow: ``workplaces`` (workplaces, topics and
slots), ``shadowing_requests``, ``matching_runs``, ``placements`` and ``reflections``; ``_common`` holds
what they share and ``_run_rows`` the plain-row reads and writes of a matching run. Callers import the
workflow module.

Every step that asks something of someone tells them: line managers (a request to decide), requesters
(the decision, a match, expiry, back to matching), hosts (a visitor to accept, a confirmation or
cancellation), shadowers (a placement to confirm, a cancellation) and coordinators (a decline or
cancellation to re-match). Calendar invites are sent by ``shadowing.invites``.
"""
