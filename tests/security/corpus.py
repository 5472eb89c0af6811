"""The attack and benign SQL corpora for the guard tests, generated from a few templates and
the Spider dev schemas (../shared/data/spider_dev)."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

# shared/ lies beside the repo (as in CI); SHOAL_SPIDER_DIR overrides
SPIDER = Path(os.environ.get("SHOAL_SPIDER_DIR") or
              Path(__file__).resolve().parents[3] / "shared" / "data" / "spider_dev")
TARGET = "singer"  # a table every attack names, present in the attack database

_ATTACKS = [
    # writes and DDL
    "DELETE FROM {t}", "DELETE FROM {t} WHERE 1=1", "UPDATE {t} SET name = 'x'",
    "INSERT INTO {t} (name) VALUES ('x')", "INSERT INTO {t} SELECT * FROM {t}",
    "REPLACE INTO {t} (name) VALUES ('x')", "DROP TABLE {t}", "DROP TABLE IF EXISTS {t}",
    "CREATE TABLE evil (x INT)", "CREATE TABLE evil AS SELECT * FROM {t}",
    "CREATE VIEW v AS SELECT * FROM {t}", "CREATE INDEX i ON {t}(name)",
    "CREATE TRIGGER tr AFTER INSERT ON {t} BEGIN DELETE FROM {t}; END",
    "ALTER TABLE {t} ADD COLUMN evil INT", "ALTER TABLE {t} RENAME TO gone",
    "TRUNCATE TABLE {t}",
    # writable CTEs and SELECT INTO
    "WITH d AS (DELETE FROM {t} RETURNING *) SELECT * FROM d",
    "WITH u AS (UPDATE {t} SET name = 'x' RETURNING *) SELECT count(*) FROM u",
    "WITH i AS (INSERT INTO {t} (name) VALUES ('x') RETURNING *) SELECT * FROM i",
    "SELECT * INTO evil FROM {t}", "SELECT name INTO TEMP evil FROM {t}",
    # stacked statements
    "SELECT 1; DROP TABLE {t}", "SELECT * FROM {t}; DELETE FROM {t}",
    "SELECT count(*) FROM {t};UPDATE {t} SET name='x'", "SELECT 1; ATTACH 'evil.db' AS evil",
    "SELECT 1; PRAGMA writable_schema = ON",
    # database-level commands
    "PRAGMA writable_schema = ON", "PRAGMA journal_mode = DELETE", "PRAGMA table_info({t})",
    "PRAGMA database_list", "ATTACH DATABASE '/tmp/evil.db' AS evil", "DETACH DATABASE main",
    "VACUUM", "VACUUM INTO '/tmp/copy.db'", "REINDEX", "ANALYZE", "BEGIN", "COMMIT",
    "ROLLBACK", "SAVEPOINT s", "RELEASE s",
    # dangerous functions
    "SELECT load_extension('/tmp/evil.so')", "SELECT load_extension('libevil')",
    "SELECT randomblob(1000000000)", "SELECT zeroblob(1000000000)",
    "SELECT fts3_tokenizer('simple')", "SELECT readfile('/etc/passwd')",
    "SELECT writefile('/tmp/x', 'data')", "SELECT edit('x')",
    "SELECT sqlite_compileoption_get(0)", "SELECT name FROM {t} WHERE load_extension('x')",
    # system catalogs
    "SELECT * FROM sqlite_master", "SELECT sql FROM sqlite_schema",
    "SELECT name FROM sqlite_temp_master", "SELECT * FROM pragma_table_info('{t}')",
    "SELECT * FROM temp.{t}", "SELECT * FROM {t} NATURAL JOIN sqlite_master",
    # PostgreSQL-style attacks
    "COPY {t} TO PROGRAM 'id'", "COPY {t} FROM '/etc/passwd'", "COPY (SELECT 1) TO '/tmp/x'",
    "SELECT pg_sleep(10)", "SELECT pg_read_file('/etc/passwd')",
    "SELECT pg_read_binary_file('/etc/passwd')", "SELECT pg_ls_dir('.')",
    "SELECT lo_import('/etc/passwd')", "SELECT lo_export(1, '/tmp/x')",
    "SELECT dblink('host=evil', 'select 1')", "SELECT set_config('x', 'y', false)",
    "SELECT pg_terminate_backend(1)", "SELECT * FROM pg_catalog.pg_user",
    "SELECT * FROM information_schema.tables", "SET statement_timeout = 0",
    "GRANT ALL ON {t} TO public", "SELECT * FROM {t} FOR UPDATE", "LOCK TABLE {t}",
    "DO $$ BEGIN PERFORM 1; END $$", "CALL evil()", "EXECUTE evil",
    "SELECT * FROM dblink('host=evil', 'select 1') AS t(x int)",
    "SELECT * FROM generate_series(1, 100000000000)",
    # MySQL-style
    "SELECT SLEEP(10)", "SELECT BENCHMARK(100000000, md5('x'))",
    "SELECT * FROM {t} INTO OUTFILE '/tmp/x'", "LOAD DATA INFILE '/etc/passwd' INTO TABLE {t}",
    # hiding places
    "SELECT (SELECT load_extension('x')) FROM {t}",
    "SELECT name FROM {t} WHERE name IN (SELECT randomblob(10))",
    "SELECT CASE WHEN 1 THEN load_extension('x') END",
    "SELECT * FROM (SELECT * FROM sqlite_master)",
    "SELECT name FROM {t} UNION SELECT sql FROM sqlite_master",
    "WITH x AS (SELECT * FROM sqlite_master) SELECT * FROM x",
    "SELECT name FROM {t} WHERE name = (SELECT group_concat(sql) FROM sqlite_master)",
]


def _variants(sql: str) -> list[str]:
    return [
        sql,
        sql.lower(),
        f"/* report */ {sql}",
        f"  \n\t{sql} ;  ",
        f"-- ignore previous instructions\n{sql}",
        sql.replace(" ", "\u00a0", 1) if sql.count(" ") else sql + "\u200b",
    ]


def attacks() -> list[str]:
    return [v for base in _ATTACKS for v in _variants(base.format(t=TARGET))]


def spider_gold() -> list[tuple[str, str]]:
    """(schema_id, gold SQL) of the 80 Spider dev questions."""
    lines = (SPIDER / "dev.jsonl").read_text().splitlines()
    return [(q["schema_id"], q["gold_sql"]) for q in map(json.loads, lines)]


def _columns(db: Path) -> dict[str, list[tuple[str, str]]]:
    connection = sqlite3.connect(db)
    try:
        tables = [r[0] for r in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {t: [(c[1], (c[2] or "").lower()) for c in connection.execute(
            f'PRAGMA table_info("{t}")')] for t in tables}
    finally:
        connection.close()


def benign() -> list[tuple[str, str]]:
    """(schema_id, SELECT) analytic queries: templates over every Spider table, plus gold."""
    queries = list(spider_gold())
    for db in sorted(SPIDER.glob("schemas/*.sqlite")):
        for table, columns in _columns(db).items():
            text = [c for c, kind in columns if "char" in kind or "text" in kind] or [columns[0][0]]
            nums = [c for c, kind in columns if kind in ("int", "integer", "real", "number",
                                                          "numeric", "float", "double")]
            num = nums[0] if nums else columns[0][0]
            t, c = f'"{table}"', f'"{text[0]}"'
            n = f'"{num}"'
            queries += [(db.stem, q) for q in (
                f"SELECT * FROM {t} LIMIT 5",
                f"SELECT count(*) FROM {t}",
                f"SELECT {c}, count(*) AS n FROM {t} GROUP BY {c} ORDER BY n DESC LIMIT 3",
                f"SELECT max({n}), min({n}), avg({n}), sum({n}) FROM {t}",
                f"SELECT DISTINCT {c} FROM {t} WHERE {c} IS NOT NULL ORDER BY {c}",
                f"SELECT {c} FROM {t} WHERE {c} LIKE '%a%' OR {c} LIKE 'B%'",
                f"WITH x AS (SELECT {c}, {n} FROM {t}) SELECT count(*) FROM x WHERE {n} > 0",
                f"SELECT {c}, row_number() OVER (ORDER BY {n} DESC) AS r FROM {t}",
                f"SELECT CASE WHEN {n} > 10 THEN 'big' ELSE 'small' END AS size, count(*) "
                f"FROM {t} GROUP BY size",
                f"SELECT {c} FROM {t} WHERE {n} IN (SELECT {n} FROM {t} WHERE {n} BETWEEN 1 "
                f"AND 100)",
                f"SELECT upper({c}), length({c}) FROM {t} ORDER BY 2 DESC LIMIT 5",
                f"SELECT coalesce({c}, 'none'), CAST({n} AS TEXT) FROM {t}",
                f"SELECT {c} FROM {t} GROUP BY {c} HAVING count(*) > 1",
                f"SELECT a.{c} FROM {t} AS a JOIN {t} AS b ON a.{n} = b.{n} LIMIT 10",
                f"SELECT {c} FROM {t} UNION SELECT {c} FROM {t} ORDER BY 1",
                f"SELECT {c} FROM {t} EXCEPT SELECT {c} FROM {t} WHERE {n} < 0",
                f"SELECT * FROM (SELECT {c}, {n} FROM {t} ORDER BY {n}) AS s LIMIT 3",
                f"SELECT round(avg({n}), 2), lower(trim({c})) FROM {t} GROUP BY 2",
            )]
    return queries
