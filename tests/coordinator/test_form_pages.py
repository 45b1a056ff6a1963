from __future__ import annotations

import pytest
from django.views.generic import FormView

from coordinator.core.views import ServiceFormMixin


def test_a_form_page_without_perform_cannot_be_built():
    class Forgetful(ServiceFormMixin, FormView):  # type: ignore[type-arg]
        template_name = "form.html"

    with pytest.raises(TypeError, match="perform"):
        Forgetful()


def test_a_form_page_with_perform_is_built():
    class Complete(ServiceFormMixin, FormView):  # type: ignore[type-arg]
        template_name = "form.html"

        def perform(self, form: object) -> str:
            return "/"

    assert Complete().perform(None) == "/"
