"""The mail's subject line is encoded in linear time (``coordinator.core.calendar.subject_value``) into the
very bytes Django's own encoding writes, for Swedish, Danish and English subjects and any other text."""

from __future__ import annotations

import random
import re

import pytest
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import forbid_multi_line_headers

from coordinator.core.calendar import SubjectWrittenOnce, invite_message, subject_value

SUBJECTS = [
    "",
    "Hej",
    "[Vårdsamverkan Skåne] Anna Öberg ber att få auskultera i 3 dagar",
    "[Sundhedssamarbejde Region Øst] Din anmodning om følgeskab blev godkendt – mødested: Ærøvej 5",
    "[Samverkan] Invitation: Course in supervision: day 1 of 2, 3 Dec 2026, 09:00–16:00",
    "[Samverkan] " + "Inbjudan: Handledning för sjuksköterskor på akutmottagningen, dag 1 av 3, " * 3,
    "ÅÄÖ" * 40,
    "日本語の件名と絵文字 🎉🎉🎉 " * 5,
    "x" * 200,
    "A plain English subject that is long enough to be folded by the header encoder of the mail, twice over",
]
ALPHABETS = {"utf-8": "abc xyzÅÄÖåäöÆØæø–→€=?_\t\"'%\\😀中", "iso-8859-1": "abc xyzÅÄÖåäöÆØæø=?_\t\"'%\\"}


def _random_subjects(count: int, alphabet: str) -> list[str]:
    generator = random.Random(15)
    return [
        "".join(generator.choice(alphabet) for _ in range(generator.randrange(1, 260))) for _ in range(count)
    ]


@pytest.mark.parametrize("encoding", ["utf-8", "iso-8859-1"])
def test_the_subject_is_the_value_django_writes(encoding):
    written = [*SUBJECTS, *_random_subjects(400, ALPHABETS[encoding])]
    subjects = [s for s in written if _fits(s, encoding)]

    expected = [forbid_multi_line_headers("Subject", s, encoding)[1] for s in subjects]

    assert [subject_value(s, encoding) for s in subjects] == expected
    assert len(subjects) > 100


def _fits(text: str, encoding: str) -> bool:
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def _bytes(message: EmailMultiAlternatives) -> bytes:
    message.extra_headers.update({"Date": "Sun, 06 Dec 2026 09:00:00 +0100", "Message-ID": "<m@samverkan>"})
    return re.sub(rb"=+\d+==", b"BOUNDARY", message.message().as_bytes(linesep="\r\n"))


@pytest.mark.parametrize("subject", SUBJECTS[1:])
def test_a_message_is_byte_for_byte_the_one_django_writes(subject):
    fields = {
        "subject": subject,
        "body": "Godkänn eller avslå ledigheten.\n\nÖppna i Samverkan: https://samverkan.example/",
        "from_email": "Samverkan <noreply@samverkan.example>",
        "to": ["anna.oberg@region.example"],
        "reply_to": ["samordnare@samverkan.example"],
    }
    django_message = EmailMultiAlternatives(**fields)
    ours = SubjectWrittenOnce(**fields)
    for message in (django_message, ours):
        message.attach_alternative("<p>Godkänn eller avslå</p>", "text/html")

    assert _bytes(ours) == _bytes(django_message)


def test_an_invite_keeps_its_subject_and_a_line_break_is_still_refused():
    from django.core.mail import BadHeaderError

    invite = invite_message(
        to=["anna.oberg@region.example"],
        subject=SUBJECTS[4],
        body_text="Välkommen",
        body_html=None,
        calendar=b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n",
        method="REQUEST",
    )
    broken = SubjectWrittenOnce(subject="Rad ett\nBcc: alla@example.org", body="x", to=["a@example.org"])

    assert invite.message()["Subject"] == forbid_multi_line_headers("Subject", SUBJECTS[4], "utf-8")[1]
    with pytest.raises(BadHeaderError):
        broken.message()


def _written(message, policy) -> bytes:
    from email.generator import BytesGenerator
    from io import BytesIO

    out = BytesIO()
    BytesGenerator(out, mangle_from_=False, policy=policy.clone(linesep="\r\n")).flatten(message)
    return out.getvalue()


@pytest.mark.parametrize("subject", SUBJECTS[1:4])
def test_the_kept_header_lines_are_the_lines_the_mail_policy_writes(subject):
    from email.policy import compat32

    from coordinator.core.calendar import KEPT_FOLDS

    invite = invite_message(
        to=["anna.oberg@region.example"],
        subject=subject,
        body_text="Välkommen",
        body_html="<p>Välkommen</p>",
        calendar=b"BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n",
        method="REQUEST",
        reply_to=["samordnare@samverkan.example"],
    ).message()
    invite["X-Long"] = "one two three " * 20  # a line folded by the policy

    first = _written(invite, compat32)  # sets the message's boundaries, kept for the writes below
    kept = [_written(invite, KEPT_FOLDS) for _ in range(2)]  # written, then kept

    assert invite.policy is KEPT_FOLDS
    assert kept == [first, first]
    assert invite.as_bytes(linesep="\r\n") == first
    assert re.search(rb"\r\nX-Long: one two three[^\r]*\r\n (one|two|three) ", first)
