from django.db import migrations

from serviceops.cases.fts import install_fts, remove_fts


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]

    operations = [migrations.RunPython(install_fts, remove_fts)]
