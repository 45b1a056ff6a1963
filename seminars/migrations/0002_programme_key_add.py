"""Deep tenant rows get their own programme key (nullable until it is filled in 0003)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("organisations", "0001_initial"),
        ("seminars", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="session",
            name="programme",
            field=models.ForeignKey(
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="organisations.programme",
            ),
        ),
        migrations.AddField(
            model_name="organisationquota",
            name="programme",
            field=models.ForeignKey(
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="organisations.programme",
            ),
        ),
        migrations.AddField(
            model_name="enrolment",
            name="programme",
            field=models.ForeignKey(
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="organisations.programme",
            ),
        ),
        migrations.AddField(
            model_name="attendance",
            name="programme",
            field=models.ForeignKey(
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="organisations.programme",
            ),
        ),
        migrations.AddField(
            model_name="invitesequence",
            name="programme",
            field=models.ForeignKey(
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="organisations.programme",
            ),
        ),
        migrations.AddField(
            model_name="roundcost",
            name="programme",
            field=models.ForeignKey(
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="organisations.programme",
            ),
        ),
        migrations.AddField(
            model_name="discussiongroup",
            name="programme",
            field=models.ForeignKey(
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="organisations.programme",
            ),
        ),
        migrations.AddField(
            model_name="discussiongroupmember",
            name="programme",
            field=models.ForeignKey(
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="organisations.programme",
            ),
        ),
    ]
