"""``PlainSelect`` writes a drop-down exactly as Django's own ``Select`` widget template does."""

from __future__ import annotations

from typing import Any

import pytest
from django import forms

from coordinator.core.forms import PlainSelect

CHOICES: list[Any] = [
    ("", "All"),
    ("sv", "svenska"),
    ("a&b", "Tom <\"Jerry\"> & 'Co'"),
    (3, "three"),
    ("<script>", "<b>not bold</b>"),
]
GROUPED: list[Any] = [
    ("", "—"),
    ("Nordic", [("sv", "svenska"), ("da", "dansk")]),
    ("Other & <more>", [("ar", "arabiska")]),
]


@pytest.mark.parametrize(
    ("choices", "value", "attrs"),
    [
        (CHOICES, None, None),
        (CHOICES, "", {"id": "id_language"}),
        (CHOICES, "a&b", {"id": "id_x", "class": "wide", "required": True, "disabled": False}),
        (CHOICES, 3, {"aria-describedby": 'help "1"', "data-x": "<y>"}),
        (CHOICES, "missing", None),
        (GROUPED, "da", {"id": "id_g"}),
        ([], None, None),
    ],
)
def test_plain_select_writes_what_djangos_select_writes(choices, value, attrs):
    django_select = forms.Select(choices=choices)
    plain = PlainSelect(choices=choices)

    assert plain.render("language", value, attrs) == django_select.render("language", value, attrs)


def test_plain_select_of_a_bound_model_choice_field_matches_django(programme, org_a, org_b, in_programme):
    from organisations.models import Organisation

    class Django(forms.Form):
        organisation = forms.ModelChoiceField(queryset=Organisation.objects.none(), required=False)

    class Plain(forms.Form):
        organisation = forms.ModelChoiceField(
            queryset=Organisation.objects.none(), required=False, widget=PlainSelect
        )

    with in_programme(programme):
        rendered = []
        for form_class in (Django, Plain):
            form = form_class({"organisation": str(org_b.pk)})
            form.fields["organisation"].queryset = Organisation.objects.order_by("name")  # type: ignore[attr-defined]
            rendered.append(str(form["organisation"]))

    assert rendered[0] == rendered[1]
    assert f'<option value="{org_b.pk}" selected>' in rendered[1]
