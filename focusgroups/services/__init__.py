"""Every write of the focus-groups app, one module per workflow: ``groups`` (groups and memberships),
``meetings`` (meetings and minutes), ``notes`` (shared notes and their versions), ``actions`` and
``glossary``. Callers import the workflow module.
"""
