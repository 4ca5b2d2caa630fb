"""Full-text search index of cases: PostgreSQL GIN over a stored tsvector, SQLite FTS5 with
triggers. `cases.selectors` queries what is installed here. On SQLite, Django rebuilds
a table (dropping its triggers) when a migration alters it: a migration that alters Case
must call `install_fts` again afterwards.
"""

# PostgreSQL keeps a stored, generated tsvector (so that checking a row never re-parses its
# text) with a GIN index on it. Besides the words it holds two lexemes that no text can
# produce: the case's team ("~team:<id>") and the month it was opened, in UTC
# ("~month:202611"), so that a team-scoped search is answered inside the index by
# intersecting "this word", "this team" and "these months".
SEARCH_VECTOR = (
    "to_tsvector('english', subject || ' ' || description) || array_to_tsvector(ARRAY["
    "'~team:' || coalesce(team_id, 0)::text, "
    "'~month:' || (date_part('year', opened_at AT TIME ZONE 'UTC') * 100 "
    "+ date_part('month', opened_at AT TIME ZONE 'UTC'))::int::text])"
)
POSTGRES_INSTALL = [
    "ALTER TABLE cases_case ADD COLUMN IF NOT EXISTS search_vector tsvector GENERATED ALWAYS "
    f"AS ({SEARCH_VECTOR}) STORED",
    "CREATE INDEX IF NOT EXISTS case_fts_idx ON cases_case USING gin (search_vector)",
]
POSTGRES_REMOVE = [
    "DROP INDEX IF EXISTS case_fts_idx",
    "ALTER TABLE cases_case DROP COLUMN IF EXISTS search_vector",
]

SQLITE_INSTALL = [
    "CREATE VIRTUAL TABLE IF NOT EXISTS cases_case_fts USING fts5(subject, description, "
    "content='cases_case', content_rowid='id', tokenize='porter unicode61')",
    "DROP TRIGGER IF EXISTS cases_case_fts_ai",
    "DROP TRIGGER IF EXISTS cases_case_fts_ad",
    "DROP TRIGGER IF EXISTS cases_case_fts_au",
    "CREATE TRIGGER cases_case_fts_ai AFTER INSERT ON cases_case BEGIN "
    "INSERT INTO cases_case_fts(rowid, subject, description) "
    "VALUES (new.id, new.subject, new.description); END",
    "CREATE TRIGGER cases_case_fts_ad AFTER DELETE ON cases_case BEGIN "
    "INSERT INTO cases_case_fts(cases_case_fts, rowid, subject, description) "
    "VALUES ('delete', old.id, old.subject, old.description); END",
    "CREATE TRIGGER cases_case_fts_au AFTER UPDATE OF subject, description ON cases_case BEGIN "
    "INSERT INTO cases_case_fts(cases_case_fts, rowid, subject, description) "
    "VALUES ('delete', old.id, old.subject, old.description); "
    "INSERT INTO cases_case_fts(rowid, subject, description) "
    "VALUES (new.id, new.subject, new.description); END",
    "INSERT INTO cases_case_fts(cases_case_fts) VALUES ('rebuild')",
]
SQLITE_REMOVE = [
    "DROP TRIGGER IF EXISTS cases_case_fts_ai",
    "DROP TRIGGER IF EXISTS cases_case_fts_ad",
    "DROP TRIGGER IF EXISTS cases_case_fts_au",
    "DROP TABLE IF EXISTS cases_case_fts",
]


def _run(schema_editor, statements: list[str]) -> None:
    for statement in statements:
        schema_editor.execute(statement)


def install_fts(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        _run(schema_editor, POSTGRES_INSTALL)
    elif vendor == "sqlite":
        _run(schema_editor, SQLITE_INSTALL)


def rebuild_fts(apps, schema_editor) -> None:
    """Recompute PostgreSQL's search vector with the current SEARCH_VECTOR (a migration that
    changes it runs this; the table is rewritten)."""
    if schema_editor.connection.vendor == "postgresql":
        _run(schema_editor, POSTGRES_REMOVE + POSTGRES_INSTALL)


def remove_fts(apps, schema_editor) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        _run(schema_editor, POSTGRES_REMOVE)
    elif vendor == "sqlite":
        _run(schema_editor, SQLITE_REMOVE)
