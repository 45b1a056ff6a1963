from __future__ import annotations

from django.urls import path

from organisations import views

app_name = "organisations"

urlpatterns = [
    path("", views.OrganisationListView.as_view(), name="list"),
    path("<int:pk>/", views.OrganisationDetailView.as_view(), name="detail"),
    path("audit/", views.AuditTrailView.as_view(), name="audit"),
    path("people/<int:pk>/erase/", views.PersonEraseView.as_view(), name="person-erase"),
]
