"""The search vector also names the month each case was opened (see cases.fts)."""

from django.db import migrations

from serviceops.cases.fts import rebuild_fts


class Migration(migrations.Migration):
    dependencies = [("cases", "0006_kpi_indexes")]

    # Backwards, the vector with months still serves the earlier searches.
    operations = [migrations.RunPython(rebuild_fts, migrations.RunPython.noop)]
