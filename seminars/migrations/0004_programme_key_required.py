"""The programme key of deep tenant rows is required from now on."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("seminars", "0003_programme_key_fill")]

    operations = [
        migrations.AlterField(
            model_name="session",
            name="programme",
            field=models.ForeignKey(
                editable=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="organisations.programme",
            ),
        ),
        migrations.AlterField(
            model_name="organisationquota",
            name="programme",
            field=models.ForeignKey(
                editable=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="organisations.programme",
            ),
        ),
        migrations.AlterField(
            model_name="enrolment",
            name="programme",
            field=models.ForeignKey(
                editable=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="organisations.programme",
            ),
        ),
        migrations.AlterField(
            model_name="attendance",
            name="programme",
            field=models.ForeignKey(
                editable=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="organisations.programme",
            ),
        ),
        migrations.AlterField(
            model_name="invitesequence",
            name="programme",
            field=models.ForeignKey(
                editable=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="organisations.programme",
            ),
        ),
        migrations.AlterField(
            model_name="roundcost",
            name="programme",
            field=models.ForeignKey(
                editable=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="organisations.programme",
            ),
        ),
        migrations.AlterField(
            model_name="discussiongroup",
            name="programme",
            field=models.ForeignKey(
                editable=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="organisations.programme",
            ),
        ),
        migrations.AlterField(
            model_name="discussiongroupmember",
            name="programme",
            field=models.ForeignKey(
                editable=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="organisations.programme",
            ),
        ),
    ]
