"""Pages of the job-shadowing app, one module per role: ``workplaces`` (everyone), ``staff``,
``placements`` (as each person concerned sees one), ``approvals`` (line managers), ``hosts`` and
``coordinators``; ``_common`` holds what they share.

Thin views: they read with a fixed number of queries, compute the flags the templates show (``can_edit``,
``can_accept``...) and write through ``shadowing.services``, which check every permission again.
"""
