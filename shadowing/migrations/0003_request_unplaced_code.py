from django.db import migrations, models
from django.utils import translation

REASONS = {
    "no_slot_in_window": "No workplace has a free visit day inside your availability windows.",
    "all_full": "Every suitable visit day was taken by other requests in this round.",
    "only_own_organisation": (
        "Only your own organisation offers what you asked for, and shadowing is always elsewhere."
    ),
    "no_matching_topic_or_language": "No workplace offers one of your topics in a language you named.",
    "partner_not_placed": "Your exchange partner could not be placed, so neither of you was.",
    "removed": "A coordinator took this request out of the proposal.",
}


def texts_to_codes(apps, schema_editor):
    """The reasons were stored as text in the programme's language: find each text's code in any of the
    interface languages (a text no longer known becomes "all_full")."""
    ShadowingRequest = apps.get_model("shadowing", "ShadowingRequest")
    code_of = {}
    for language in ("en", "sv", "da"):
        with translation.override(language):
            for code, text in REASONS.items():
                code_of[translation.gettext(text)] = code
    rows = ShadowingRequest.objects.exclude(unplaced_reason="").values_list("pk", "unplaced_reason")
    by_code = {}
    for pk, text in rows:
        by_code.setdefault(code_of.get(text, "all_full"), []).append(pk)
    for code, ids in by_code.items():
        ShadowingRequest.objects.filter(pk__in=ids).update(unplaced_code=code)


class Migration(migrations.Migration):
    dependencies = [
        ("shadowing", "0002_run_unplaced_text_limits"),
    ]

    operations = [
        migrations.AddField(
            model_name="shadowingrequest",
            name="unplaced_code",
            field=models.CharField(
                blank=True,
                choices=[
                    (
                        "no_slot_in_window",
                        "No workplace has a free visit day inside your availability windows.",
                    ),
                    ("all_full", "Every suitable visit day was taken by other requests in this round."),
                    (
                        "only_own_organisation",
                        "Only your own organisation offers what you asked for, and shadowing is always elsewhere.",
                    ),
                    (
                        "no_matching_topic_or_language",
                        "No workplace offers one of your topics in a language you named.",
                    ),
                    (
                        "partner_not_placed",
                        "Your exchange partner could not be placed, so neither of you was.",
                    ),
                    ("removed", "A coordinator took this request out of the proposal."),
                ],
                max_length=40,
                verbose_name="why not placed",
            ),
        ),
        migrations.RunPython(texts_to_codes, migrations.RunPython.noop),
        migrations.RemoveField(
            model_name="shadowingrequest",
            name="unplaced_reason",
        ),
    ]
