"""Every write of the organisations app, one module per workflow: ``programmes``, ``agencies``
(organisations and units), ``people`` (people, memberships, roles and calendar tokens)."""
