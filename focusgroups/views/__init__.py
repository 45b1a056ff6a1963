"""Pages of the focus groups, one module per area: ``groups`` (the areas, a group and its members),
``meetings``, ``notes`` (the live editor, history, compare and restore), ``actions`` and ``glossary``.

Thin views: they read inside the request's programme scope, write through ``focusgroups.services``, compute
the permission flags the templates show (``can_manage``, ``can_edit``...) from ``focusgroups.permissions``
and let the services check again. Every page uses a fixed number of queries, whatever the amount of data.
"""
