"""factory_boy factories. Tenant models are created through their plain manager: the scoped default
manager would (correctly) see nothing outside a request."""

from __future__ import annotations

from typing import Any

from factory.django import DjangoModelFactory

from coordinator.core.tenancy import unscoped


class TenantFactory(DjangoModelFactory):
    class Meta:
        abstract = True

    @classmethod
    def _get_manager(cls, model_class: Any) -> Any:
        return getattr(model_class, "unscoped_objects", model_class._default_manager)

    @classmethod
    def _generate(cls, strategy: Any, params: Any) -> Any:
        # Arranging a test's data is system work across programmes (related managers read the rows too).
        with unscoped():
            return super()._generate(strategy, params)


from tests.factories.organisations import *  # noqa: E402, F403
