from __future__ import annotations

from django.urls import path

from focusgroups.views import actions, glossary, groups, meetings, notes

app_name = "focusgroups"

urlpatterns = [
    path("", groups.GroupListView.as_view(), name="list"),
    path("new/", groups.GroupCreateView.as_view(), name="group-create"),
    path("actions/mine/", actions.MyActionsView.as_view(), name="my-actions"),
    path("glossary/", glossary.GlossaryView.as_view(), name="glossary"),
    path("glossary/<int:pk>/", glossary.ConceptView.as_view(), name="concept"),
    path("<int:pk>/", groups.GroupDetailView.as_view(), name="group"),
    path("<int:pk>/edit/", groups.GroupEditView.as_view(), name="group-edit"),
    path("<int:pk>/members/add/", groups.MembershipAddView.as_view(), name="membership-add"),
    path("<int:pk>/meetings/new/", meetings.MeetingCreateView.as_view(), name="meeting-create"),
    path("<int:pk>/notes/", notes.NoteListView.as_view(), name="notes"),
    path("<int:pk>/actions/", actions.ActionListView.as_view(), name="actions"),
    path("members/<int:pk>/edit/", groups.MembershipEditView.as_view(), name="membership-edit"),
    path("members/<int:pk>/remove/", groups.MembershipRemoveView.as_view(), name="membership-remove"),
    path("meetings/<int:pk>/", meetings.MeetingDetailView.as_view(), name="meeting"),
    path("meetings/<int:pk>/edit/", meetings.MeetingEditView.as_view(), name="meeting-edit"),
    path("meetings/<int:pk>/cancel/", meetings.MeetingCancelView.as_view(), name="meeting-cancel"),
    path("meetings/<int:pk>/minutes/", meetings.MeetingMinutesView.as_view(), name="meeting-minutes"),
    path("notes/<int:pk>/", notes.NoteDetailView.as_view(), name="note"),
    path("notes/<int:pk>/history/", notes.NoteHistoryView.as_view(), name="note-history"),
    path("notes/<int:pk>/restore/", notes.NoteRestoreView.as_view(), name="note-restore"),
    path("actions/<int:pk>/edit/", actions.ActionEditView.as_view(), name="action-edit"),
    path("actions/<int:pk>/status/", actions.ActionStatusView.as_view(), name="action-status"),
]
