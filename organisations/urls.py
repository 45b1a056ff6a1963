from __future__ import annotations

from django.urls import path

from organisations.views import accounts, agencies, audit, personal_data, platform, programme

app_name = "organisations"

urlpatterns = [
    path("", agencies.OrganisationListView.as_view(), name="list"),
    path("new/", agencies.OrganisationCreateView.as_view(), name="create"),
    path("<int:pk>/", agencies.OrganisationDetailView.as_view(), name="detail"),
    path("invite/", agencies.AgencyInviteView.as_view(), name="invite"),
    path("invitations/", agencies.AgencyInvitationsView.as_view(), name="invitations"),
    path("audit/", audit.AuditTrailView.as_view(), name="audit"),
    path("programme/", programme.ProgrammeSettingsView.as_view(), name="programme"),
    path("programme/archive/", programme.ProgrammeArchiveView.as_view(), name="programme-archive"),
    path("programme/checklist/", programme.OnboardingChecklistView.as_view(), name="checklist"),
    path("work-roles/", programme.WorkRoleListView.as_view(), name="work-roles"),
    path("work-roles/<int:pk>/", programme.WorkRoleEditView.as_view(), name="work-role-edit"),
    path("work-roles/<int:pk>/delete/", programme.WorkRoleDeleteView.as_view(), name="work-role-delete"),
    path("platform/programmes/", platform.PlatformProgrammeListView.as_view(), name="platform-programmes"),
    path("platform/jobs/", platform.PlatformJobsView.as_view(), name="platform-jobs"),
    path(
        "platform/programmes/new/",
        platform.PlatformProgrammeCreateView.as_view(),
        name="platform-programme-create",
    ),
    path("<int:pk>/people/new/", agencies.PersonCreateView.as_view(), name="person-create"),
    path("<int:pk>/sign-in/", accounts.IdentityProviderView.as_view(), name="sign-in"),
    path("people/invitations/", accounts.InvitationsView.as_view(), name="person-invitations"),
    path("people/invitations/send/", accounts.InvitationActionView.as_view(), name="invitation-action"),
    path("people/<int:pk>/erase/", personal_data.PersonEraseView.as_view(), name="person-erase"),
]
