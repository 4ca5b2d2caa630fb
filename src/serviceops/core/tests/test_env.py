import pytest

from serviceops.env import ConfigError, database_config, env_bool, env_int


def test_bad_boolean_and_integer_values_fail_loudly_naming_the_variable(monkeypatch):
    monkeypatch.setenv("DEBUG", "maybe")
    with pytest.raises(ConfigError, match="DEBUG"):
        env_bool("DEBUG")
    monkeypatch.setenv("EMAIL_PORT", "twenty-five")
    with pytest.raises(ConfigError, match="EMAIL_PORT"):
        env_int("EMAIL_PORT", 25)


def test_database_url_selects_postgresql_and_defaults_to_sqlite_in_home(tmp_path):
    pg = database_config("postgres://bob:s%40cret@db.example:6543/ops?sslmode=require", tmp_path)
    assert pg["ENGINE"] == "django.db.backends.postgresql"
    assert (pg["USER"], pg["PASSWORD"], pg["HOST"], pg["PORT"], pg["NAME"]) == (
        "bob", "s@cret", "db.example", "6543", "ops")
    assert pg["OPTIONS"] == {
        "sslmode": "require", "server_side_binding": True, "prepare_threshold": 2,
        "options": "-c plan_cache_mode=force_custom_plan",
    }
    own = database_config("postgres://db.example/ops?options=-c%20work_mem%3D64MB", tmp_path)
    assert own["OPTIONS"]["options"] == "-c work_mem=64MB -c plan_cache_mode=force_custom_plan"
    pooled = database_config("postgres://db.example/ops?sslmode=require", tmp_path,
                             prepared_statements=False)
    assert pooled["OPTIONS"] == {"sslmode": "require"}
    lite = database_config("", tmp_path)
    assert lite["NAME"] == str(tmp_path / "serviceops.sqlite3")
    with pytest.raises(ConfigError, match="mysql"):
        database_config("mysql://x/y", tmp_path)


@pytest.mark.django_db
def test_postgresql_prepares_statements_run_again_and_plans_each_run_for_its_values():
    from django.db import connection

    from serviceops.people.models import Team

    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    team = Team.objects.create(name="Billing")
    for _ in range(3):
        assert Team.objects.get(pk=team.pk) == team
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
        cursor.execute("SHOW plan_cache_mode")
        assert cursor.fetchone()[0] == "force_custom_plan"
    assert [sql for sql in prepared if '"people_team"' in sql and "$1" in sql]
