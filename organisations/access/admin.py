"""The admin site for programme admins, under the same tenant scoping as the rest of the platform.

Only this site is mounted (not Django's default one, where third-party apps register their models). A
programme admin sees and edits the rows of the programmes they administer and nothing else; a superuser
(the platform operator) sees everything.
"""

from __future__ import annotations

from functools import update_wrapper
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpRequest, HttpResponse

from coordinator.core.services import edge_errors
from coordinator.core.tenancy import activate_scope, deactivate_scope, restrict_to_programmes, unscoped
from organisations.models import PlatformRole
from organisations.permissions import actor_for


def admin_programme_ids(request: HttpRequest) -> frozenset[int]:
    return actor_for(request.user).programmes_with_role(PlatformRole.PROGRAMME_ADMIN)


class ProgrammeAdminSite(admin.AdminSite):
    site_header = "Samverkan"
    site_title = "Samverkan admin"
    index_title = "Programme administration"

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and (user.is_superuser or admin_programme_ids(request)))

    def login(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        # One sign-in page for the whole platform (with its lockout rules).
        return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)

    def admin_view(self, view: Any, cacheable: bool = False) -> Any:
        inner = super().admin_view(view, cacheable)

        def scoped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.user.is_active and request.user.is_superuser:
                with unscoped():  # superusers administer every programme
                    return inner(request, *args, **kwargs)
            token = activate_scope(admin_programme_ids(request))
            try:
                return inner(request, *args, **kwargs)
            finally:
                deactivate_scope(token)

        return update_wrapper(scoped, inner)


site = ProgrammeAdminSite(name="admin")


class ScopedModelForm(forms.ModelForm):  # type: ignore[type-arg]
    """An admin form that refuses what the services refuse: the checks every edge makes (a name on one
    line, text within its limit) and the model admin's own rules (``check_instance``), on the row as it
    would be saved. Uniqueness is checked against every programme's rows, as the database will."""

    def check_instance(self, instance: models.Model) -> None:
        """Raise ``ValidationError`` (per field) where the owning service would refuse ``instance``."""

    def _post_clean(self) -> None:
        super()._post_clean()  # type: ignore[misc]
        errors = edge_errors(self.instance)
        try:
            self.check_instance(self.instance)
        except ValidationError as exc:
            for name, messages in exc.message_dict.items():
                errors.setdefault(name, []).extend(messages)
        for name, messages in errors.items():
            self.add_error(name if name in self.fields else None, messages)

    def validate_unique(self) -> None:
        # A name unique across the platform (an organisation's) may be taken in a programme this person
        # does not administer: the scoped manager would not see it and the database would refuse the save.
        # Only whether the value is taken is read; no row is shown.
        with unscoped():
            super().validate_unique()


class ScopedModelAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Rows of the programmes the person administers; full rights on those, none elsewhere."""

    form = ScopedModelForm

    superuser_only_add = False
    # Rows the pages offer no way to delete: only the platform operator deletes them here (an organisation
    # or a person may also belong to other programmes, whose rows a delete would cascade into).
    superuser_only_delete = False

    def _is_programme_admin(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and (request.user.is_superuser or admin_programme_ids(request)))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._is_programme_admin(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._is_programme_admin(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._is_programme_admin(request)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        if self.superuser_only_add:
            return bool(request.user.is_superuser)
        return self._is_programme_admin(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if self.superuser_only_delete:
            return bool(request.user.is_superuser)
        return self._is_programme_admin(request)

    def get_queryset(self, request: HttpRequest) -> models.QuerySet[Any]:
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return self.narrow_queryset(request, restrict_to_programmes(queryset, admin_programme_ids(request)))

    def narrow_queryset(
        self, request: HttpRequest, queryset: models.QuerySet[models.Model]
    ) -> models.QuerySet[models.Model]:
        """Within the programmes, what the app's pages let this person read (its selectors' or permissions'
        rule, e.g. notes of groups the person is not in); superusers skip it. The change page finds its row
        through this queryset too, so a row left out answers like a missing one."""
        return queryset


class ScopedTabularInline(admin.TabularInline):  # type: ignore[type-arg]
    extra = 0
    form = ScopedModelForm

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return True

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return True

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return True
