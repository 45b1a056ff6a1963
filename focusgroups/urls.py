from __future__ import annotations

from django.urls import path

from focusgroups import views

app_name = "focusgroups"

urlpatterns = [
    path("", views.GroupListView.as_view(), name="list"),
    path("new/", views.GroupCreateView.as_view(), name="group-create"),
    path("actions/mine/", views.MyActionsView.as_view(), name="my-actions"),
    path("glossary/", views.GlossaryView.as_view(), name="glossary"),
    path("glossary/<int:pk>/", views.ConceptView.as_view(), name="concept"),
    path("<int:pk>/", views.GroupDetailView.as_view(), name="group"),
    path("<int:pk>/edit/", views.GroupEditView.as_view(), name="group-edit"),
    path("<int:pk>/members/add/", views.MembershipAddView.as_view(), name="membership-add"),
    path("<int:pk>/meetings/new/", views.MeetingCreateView.as_view(), name="meeting-create"),
    path("<int:pk>/notes/", views.NoteListView.as_view(), name="notes"),
    path("<int:pk>/actions/", views.ActionListView.as_view(), name="actions"),
    path("members/<int:pk>/edit/", views.MembershipEditView.as_view(), name="membership-edit"),
    path("members/<int:pk>/remove/", views.MembershipRemoveView.as_view(), name="membership-remove"),
    path("meetings/<int:pk>/", views.MeetingDetailView.as_view(), name="meeting"),
    path("meetings/<int:pk>/edit/", views.MeetingEditView.as_view(), name="meeting-edit"),
    path("meetings/<int:pk>/cancel/", views.MeetingCancelView.as_view(), name="meeting-cancel"),
    path("meetings/<int:pk>/minutes/", views.MeetingMinutesView.as_view(), name="meeting-minutes"),
    path("notes/<int:pk>/", views.NoteDetailView.as_view(), name="note"),
    path("notes/<int:pk>/history/", views.NoteHistoryView.as_view(), name="note-history"),
    path("notes/<int:pk>/restore/", views.NoteRestoreView.as_view(), name="note-restore"),
    path("actions/<int:pk>/edit/", views.ActionEditView.as_view(), name="action-edit"),
    path("actions/<int:pk>/status/", views.ActionStatusView.as_view(), name="action-status"),
]
