from __future__ import annotations

from django.urls import path

from organisations import views

app_name = "organisations"

urlpatterns = [
    path("", views.OrganisationListView.as_view(), name="list"),
    path("<int:pk>/", views.OrganisationDetailView.as_view(), name="detail"),
    path("<int:pk>/sign-in/", views.IdentityProviderView.as_view(), name="sign-in"),
    path("audit/", views.AuditTrailView.as_view(), name="audit"),
    path("invitations/", views.InvitationsView.as_view(), name="invitations"),
    path("invitations/send/", views.InvitationActionView.as_view(), name="invitation-action"),
]
