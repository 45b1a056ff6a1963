"""The organisations' demo data: tables in ``data``, the loader in ``loader``.

The names below are re-exported because the other apps' seeders and tests import them from
``organisations.seed``; this app itself imports ``data`` and ``loader`` directly.
"""

from organisations.seed.data import COPENHAGEN_SLUG, DEMO_PASSWORD, MALMO_SLUG
from organisations.seed.loader import demo_people, demo_person, malmo, seed_organisations

__all__ = [
    "COPENHAGEN_SLUG",
    "DEMO_PASSWORD",
    "MALMO_SLUG",
    "demo_people",
    "demo_person",
    "malmo",
    "seed_organisations",
]
