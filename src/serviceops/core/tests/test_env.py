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
    assert pg["OPTIONS"] == {"sslmode": "require", "prepare_threshold": 0}
    pooled = database_config("postgres://db.example/ops?sslmode=require", tmp_path,
                             prepared_statements=False)
    assert pooled["OPTIONS"] == {"sslmode": "require"}
    lite = database_config("", tmp_path)
    assert lite["NAME"] == str(tmp_path / "serviceops.sqlite3")
    with pytest.raises(ConfigError, match="mysql"):
        database_config("mysql://x/y", tmp_path)


@pytest.mark.django_db
def test_on_postgresql_only_the_statements_written_once_are_prepared(org):
    from django.db import connection

    from serviceops.core.rows import row_by_pk
    from serviceops.people.models import Team

    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    for _ in range(3):
        assert row_by_pk(Team, org.billing.pk) == org.billing
        assert Team.objects.get(pk=org.technical.pk) == org.technical
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    # The lookup written once, with its value bound on the server; not the ORM's query,
    # whose values Django writes into the statement.
    assert [sql for sql in prepared if 'FROM "people_team" r WHERE r."id" = $1' in sql]
    assert not [sql for sql in prepared if '"people_team"."id"' in sql]
