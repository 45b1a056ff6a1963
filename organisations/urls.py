from __future__ import annotations

from django.urls import path

from organisations.views import (
    accounts,
    agencies,
    audit,
    competence,
    followups,
    personal_data,
    platform,
    programme,
    status,
    targets,
)

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
    path("competences/", competence.CompetenceListView.as_view(), name="competences"),
    path("competences/new/", competence.CompetenceCreateView.as_view(), name="competence-create"),
    path("competences/<int:pk>/", competence.CompetenceEditView.as_view(), name="competence-edit"),
    path("competences/<int:pk>/delete/", competence.CompetenceDeleteView.as_view(), name="competence-delete"),
    path("competences/profiles/<int:pk>/", competence.RoleProfileView.as_view(), name="role-profile"),
    path("competences/gaps/", competence.GapsView.as_view(), name="competence-gaps"),
    path("competences/team/", competence.TeamCompetenceView.as_view(), name="team-competences"),
    path(
        "competences/people/<int:pk>/",
        competence.PersonCompetenceView.as_view(),
        name="person-competences",
    ),
    path("targets/", targets.TargetListView.as_view(), name="targets"),
    path("targets/new/", targets.TargetCreateView.as_view(), name="target-create"),
    path("targets/<int:pk>/", targets.TargetEditView.as_view(), name="target-edit"),
    path("targets/<int:pk>/delete/", targets.TargetDeleteView.as_view(), name="target-delete"),
    path("follow-ups/", followups.MyFollowUpsView.as_view(), name="follow-ups"),
    path(
        "follow-ups/expect/<str:kind>/<int:subject_id>/",
        followups.ExpectationView.as_view(),
        name="expectation",
    ),
    path("follow-ups/<int:pk>/", followups.FollowUpAnswerView.as_view(), name="follow-up"),
    path("effect/", followups.EffectReportView.as_view(), name="effect"),
    path("status/", status.WeeklyStatusView.as_view(), name="status"),
    path("status/print/", status.WeeklyStatusView.as_view(printable=True), name="status-print"),
]
