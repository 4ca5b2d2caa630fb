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
    assert pg["OPTIONS"] == {"sslmode": "require"}
    lite = database_config("", tmp_path)
    assert lite["NAME"] == str(tmp_path / "serviceops.sqlite3")
    with pytest.raises(ConfigError, match="mysql"):
        database_config("mysql://x/y", tmp_path)
