"""Replies to visit invites read back from a real IMAP server (Dovecot, started by the test).

The fixture runs Debian's dovecot as a plain process with its own configuration in a temporary folder, on
a free loopback port, with one passwd-file user (the organiser mailbox); replies are delivered into it by
IMAP APPEND, as a mail server would deliver them. Skipped, with the reason, where dovecot is not installed
(``.ci/ensure-system-packages`` installs ``dovecot-imapd``) or will not start.
"""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from datetime import date
from datetime import time as clock
from pathlib import Path

import pytest
from django.core.management import call_command
from imap_tools import AND, MailBoxUnencrypted
from pytest_django.fixtures import Settings

from coordinator.core.models import CalendarCopy, CalendarReply, Notification
from coordinator.core.replies import HANDLED_KEYWORD, read_mailbox
from coordinator.core.tenancy import programme_scope
from shadowing.models import Placement
from shadowing.services import placements
from tests.factories.calendar import reply_calendar, reply_mail
from tests.factories.shadowing import SlotFactory, make_request

pytestmark = pytest.mark.django_db
PASSWORD = "organiser-secret"  # noqa: S105 (a throwaway test server's password)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _config(folder: Path, port: int, user: pwd.struct_passwd) -> str:
    return f"""
base_dir = {folder}/run
state_dir = {folder}/state
log_path = {folder}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
default_internal_user = {user.pw_name}
default_internal_group = {grp.getgrgid(user.pw_gid).gr_name}
default_login_user = {user.pw_name}
first_valid_uid = {user.pw_uid}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {folder}/passwd
}}
userdb {{
  driver = static
  args = uid={user.pw_uid} gid={user.pw_gid} home={folder}/home/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""


@pytest.fixture
def imap_server(settings: Settings) -> Iterator[int]:
    binary = shutil.which("dovecot") or ("/usr/sbin/dovecot" if Path("/usr/sbin/dovecot").exists() else None)
    if binary is None:
        pytest.skip("dovecot is not installed (apt-get install dovecot-imapd; .ci/ensure-system-packages)")
    # Dovecot's login processes refuse to run as root: as root, the whole server runs as nobody.
    as_root = os.getuid() == 0
    user = pwd.getpwnam("nobody") if as_root else pwd.getpwuid(os.getuid())
    # A folder of its own under the system's temporary folder, which the unprivileged server can reach.
    folder = Path(tempfile.mkdtemp(prefix="dovecot-"))
    for sub in ("run", "state", "home"):
        (folder / sub).mkdir(parents=True)
    (folder / "passwd").write_text(f"organiser:{{PLAIN}}{PASSWORD}\n")
    port = _free_port()
    (folder / "dovecot.conf").write_text(_config(folder, port, user))
    command = [binary, "-F", "-c", str(folder / "dovecot.conf")]
    if as_root:
        subprocess.run(["chown", "-R", "nobody", str(folder)], check=True)  # noqa: S603, S607
        command = ["runuser", "-u", "nobody", "--", *command]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
    try:
        deadline = time.monotonic() + 20
        while True:
            if process.poll() is not None:
                pytest.skip(f"dovecot exited with {process.returncode}: {_log(folder)}")
            try:
                with MailBoxUnencrypted("127.0.0.1", port).login("organiser", PASSWORD):
                    break
            except Exception:  # not listening or not ready yet
                if time.monotonic() > deadline:
                    pytest.skip(f"dovecot did not answer on port {port}: {_log(folder)}")
                time.sleep(0.2)
        settings.CALENDAR_REPLY_IMAP_HOST = "127.0.0.1"
        settings.CALENDAR_REPLY_IMAP_PORT = port
        settings.CALENDAR_REPLY_IMAP_SSL = False
        settings.CALENDAR_REPLY_IMAP_USER = "organiser"
        settings.CALENDAR_REPLY_IMAP_PASSWORD = PASSWORD
        settings.CALENDAR_REPLY_IMAP_FOLDER = "INBOX"
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


def _log(folder: Path) -> str:
    log = folder / "dovecot.log"
    return log.read_text()[-500:] if log.exists() else ""


def _deliver(port: int, *mails: bytes) -> None:
    with MailBoxUnencrypted("127.0.0.1", port).login("organiser", PASSWORD) as box:
        for message in mails:
            box.append(message, "INBOX")


@pytest.fixture
def visit(programme, shadower, host_a, coordinator, workplace_a, make_placement, as_actor):
    programme.coordinator_email = "samordnare@malmo.example"
    programme.save(update_fields=["coordinator_email"])
    slot = SlotFactory(workplace=workplace_a, date=date(2030, 3, 12), starts_at=clock(9), ends_at=clock(15))
    with programme_scope([programme.pk]):
        placement = make_placement(make_request(programme, shadower), [slot], Placement.Status.HOST_ACCEPTED)
        placements.placement_confirm(
            actor=as_actor(shadower), placement=placement, accept_confidentiality=True
        )
    copy = CalendarCopy.unscoped_objects.get(person=shadower)
    return {
        "placement": placement,
        "shadower": shadower,
        "host": host_a,
        "coordinator": coordinator,
        "copy": copy,
    }


def test_a_decline_read_from_the_mailbox_asks_to_confirm_and_tells_the_coordinators(imap_server, visit):
    shadower, copy = visit["shadower"], visit["copy"]
    calendar = reply_calendar(copy.uid, shadower.user.email.upper(), "DECLINED", 0)
    _deliver(imap_server, reply_mail(calendar, sender=shadower.user.email, message_id="<d1@client.example>"))

    assert read_mailbox() == 1

    copy.refresh_from_db()
    assert copy.reply == "DECLINED"
    asked = Notification.unscoped_objects.filter(recipient=shadower).order_by("-pk").first()
    assert (asked.title, asked.url) == (
        f"You declined the visit to {visit['placement'].workplace.name} in your calendar",
        f"/shadowing/placements/{visit['placement'].pk}/cancel/",
    )
    told = Notification.unscoped_objects.filter(recipient=visit["coordinator"]).order_by("-pk").first()
    assert told.title == (
        f"{shadower.full_name} declined the visit to {visit['placement'].workplace.name} in their calendar"
    )
    # The visit is not cancelled by the calendar alone.
    assert Placement.unscoped_objects.get(pk=visit["placement"].pk).status == Placement.Status.CONFIRMED
    with MailBoxUnencrypted("127.0.0.1", imap_server).login("organiser", PASSWORD) as box:
        assert [m.uid for m in box.fetch(AND(no_keyword=HANDLED_KEYWORD))] == []


def test_reading_again_changes_nothing(imap_server, visit):
    shadower, copy = visit["shadower"], visit["copy"]
    mail = reply_mail(
        reply_calendar(copy.uid, shadower.user.email, "DECLINED", 0),
        sender=shadower.user.email,
        message_id="<d2@client.example>",
    )
    _deliver(imap_server, mail)
    read_mailbox()
    before = Notification.unscoped_objects.count()

    _deliver(imap_server, mail)  # the same message delivered twice (a retrying server)
    call_command("read_calendar_replies", stdout=open(os.devnull, "w"))  # noqa: SIM115

    assert Notification.unscoped_objects.count() == before
    assert list(CalendarReply.objects.values_list("message_id", "outcome")) == [
        ("<d2@client.example>", "declined")
    ]


def test_accept_is_recorded(imap_server, visit):
    host, placement = visit["host"], visit["placement"]
    copy = CalendarCopy.unscoped_objects.get(person=host)
    _deliver(
        imap_server,
        reply_mail(
            reply_calendar(copy.uid, host.user.email, "ACCEPTED", 0),
            sender=host.user.email,
            message_id="<a1@x>",
        ),
    )

    read_mailbox()

    copy.refresh_from_db()
    assert (copy.reply, copy.replied_at is not None) == ("ACCEPTED", True)
    assert Placement.unscoped_objects.get(pk=placement.pk).status == Placement.Status.CONFIRMED


def test_replies_from_strangers_unknown_events_and_old_versions_are_ignored(imap_server, visit, caplog):
    shadower, copy = visit["shadower"], visit["copy"]
    CalendarCopy.unscoped_objects.filter(pk=copy.pk).update(sequence=2)
    _deliver(
        imap_server,
        reply_mail(
            reply_calendar(copy.uid, "stranger@example.org", "DECLINED", 2), sender="x@y", message_id="<s1@x>"
        ),
        reply_mail(
            reply_calendar("unknown@samverkan.example", shadower.user.email, "DECLINED", 0),
            sender=shadower.user.email,
            message_id="<s2@x>",
        ),
        reply_mail(
            reply_calendar(copy.uid, shadower.user.email, "DECLINED", 1),
            sender=shadower.user.email,
            message_id="<s3@x>",
        ),
        b"From: someone@example.org\r\nMessage-ID: <s4@x>\r\nSubject: hello\r\n\r\nNo calendar here.\r\n",
    )

    assert read_mailbox() == 4

    assert dict(CalendarReply.objects.values_list("message_id", "outcome")) == {
        "<s1@x>": "ignored: not invited",
        "<s2@x>": "ignored: unknown event",
        "<s3@x>": "ignored: outdated",
        "<s4@x>": "ignored: not a reply",
    }
    copy.refresh_from_db()
    assert copy.reply == ""
    assert Notification.unscoped_objects.filter(title__contains="declined").count() == 0
    assert sum("ignored" in record.getMessage() for record in caplog.records) == 4
