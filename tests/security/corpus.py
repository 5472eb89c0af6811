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
SECRET = "secrets"  # present in the attack database, never on the allow-list

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


# Attacks by class, beyond the classic ones above: each names the unlisted {s} table or
# builds a resource bomb. Written for these classes, not copied from any other corpus.
_UNLISTED = [
    "SELECT * FROM {s}", 'SELECT * FROM "{s}"', "SELECT * FROM [{s}]", "SELECT * FROM `{s}`",
    "SELECT * FROM {S}", 'SELECT * FROM "{S}"', "SELECT * FROM main.{s}",
    'SELECT * FROM "main"."{s}"', "SELECT * FROM MAIN.{S}", "SELECT count(*) FROM {s}",
    "SELECT name FROM {t} UNION SELECT value FROM {s}",
    "SELECT name FROM {t} UNION ALL SELECT value FROM main.{s}",
    "SELECT name FROM {t} WHERE name IN (SELECT value FROM {s})",
    "SELECT (SELECT value FROM {s} LIMIT 1) FROM {t}",
    "SELECT name FROM {t} WHERE EXISTS (SELECT 1 FROM {s} WHERE value LIKE 'a%')",
    "SELECT * FROM {t} JOIN {s} ON 1 = 1", "SELECT * FROM {t}, {s}",
    "SELECT * FROM {t} NATURAL JOIN {s}", "SELECT * FROM {t} LEFT JOIN {s} ON {s}.id = {t}.id",
    "WITH {s} AS (SELECT * FROM {s}) SELECT * FROM {s}",
    "WITH {t} AS (SELECT * FROM {s}) SELECT * FROM {t}",
    "WITH x AS (SELECT * FROM {s}) SELECT * FROM x",
    "WITH a AS (SELECT * FROM b), b AS (SELECT * FROM {s}) SELECT * FROM a",
    "SELECT * FROM (WITH {s} AS (SELECT 1) SELECT * FROM {s}) AS q, {s}",
    "WITH RECURSIVE r(v) AS (SELECT value FROM {s} UNION SELECT v FROM r) SELECT * FROM r",
    "SELECT * FROM (SELECT * FROM {s}) AS t2", "SELECT * FROM (SELECT * FROM main.{s})",
    "EXPLAIN SELECT * FROM {s}", "EXPLAIN QUERY PLAN SELECT * FROM {s}",
    "SELECT group_concat(value) FROM {s}", "SELECT json_group_array(value) FROM {s}",
    "SELECT e.value FROM json_each((SELECT json_group_array(value) FROM {s})) AS e",
    "SELECT max(value) OVER () FROM {s}", "SELECT CASE WHEN (SELECT count(*) FROM {s}) > 0 "
    "THEN 1 END", "SELECT name FROM {t} ORDER BY (SELECT value FROM {s} LIMIT 1)",
    "SELECT * FROM runs", "SELECT * FROM calls", "SELECT * FROM shoal_migrations",
    "SELECT * FROM {t} UNION SELECT * FROM sqlite_temp_schema",
]
_DEPTH = [
    "SELECT " + "(" * 3000 + "1" + ")" * 3000,
    "SELECT 1 FROM {t} WHERE " + " AND ".join(["(1 = 1)"] * 3000) + " AND " + "NOT " * 3000
    + "1",
    "SELECT " + "abs(" * 2000 + "1" + ")" * 2000,
    "SELECT " + "- " * 5000 + "1",
    "SELECT * FROM " + "(SELECT * FROM " * 400 + "{t}" + ") AS q" * 400,
]


def attack_categories() -> dict[str, list[str]]:
    """Every attack, by class (each class has its case and comment variants)."""
    def expand(templates: list[str], vary: bool = True) -> list[str]:
        sqls = [t.format(t=TARGET, s=SECRET, S=SECRET.upper()) for t in templates]
        return [v for sql in sqls for v in (_variants(sql) if vary else [sql])]

    return {"writes, commands, functions, catalogs": expand(_ATTACKS),
            "unlisted tables": expand(_UNLISTED), "parser depth": expand(_DEPTH, vary=False)}


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
    return [sql for sqls in attack_categories().values() for sql in sqls]


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
    """(schema_id, SELECT) analytic queries: templates over every Spider table (date
    bucketing, windows, JSON, string cleanup, CASE pivots...), plus gold."""
    queries = list(spider_gold())
    first = queries[0][0]
    queries += [(first, sql) for sql in (
        "VALUES (1, 'a'), (2, 'b')",
        "WITH RECURSIVE days(d) AS (SELECT date('2025-01-01') UNION ALL SELECT "
        "date(d, '+1 day') FROM days WHERE d < '2025-01-31') SELECT count(*) FROM days",
        "SELECT json_extract('{\"a\": [1, 2]}', '$.a[1]'), json_array_length('[1,2,3]')",
        "SELECT strftime('%w', '2025-03-04'), time('now') IS NOT NULL, datetime('now') > ''",
    )]
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
                f"SELECT strftime('%Y-%m', 'now') AS month, count(*) FROM {t} GROUP BY month",
                f"SELECT date('now', '-7 days'), julianday('now') - julianday('2024-01-01'), "
                f"count(*) FROM {t}",
                f"SELECT {c}, {n}, sum({n}) OVER (ORDER BY {n} ROWS BETWEEN 2 PRECEDING AND "
                f"CURRENT ROW) AS moving FROM {t}",
                f"SELECT {c}, lag({n}) OVER (ORDER BY {n}), nth_value({n}, 2) OVER () FROM {t}",
                f"SELECT ntile(4) OVER (ORDER BY {n}) AS quartile, {n} FROM {t}",
                f"SELECT sum(CASE WHEN {n} > 10 THEN 1 ELSE 0 END) AS high, "
                f"sum(CASE WHEN {n} <= 10 THEN 1 ELSE 0 END) AS low FROM {t}",
                f"SELECT replace(lower(trim({c})), ' ', '_'), substr({c}, 1, 3), "
                f"instr({c}, 'a') FROM {t}",
                f"SELECT {c} FROM {t} WHERE {c} = 'abc' COLLATE NOCASE",
                f"SELECT json_object('name', {c}, 'n', {n}) FROM {t} LIMIT 3",
                f"SELECT json_group_array({c}) FROM {t}",
                f"SELECT e.value FROM {t}, json_each(json_array({t}.{n}, {t}.{n})) AS e LIMIT 5",
                f"SELECT printf('%.2f', avg({n})), format('%d rows', count(*)) FROM {t}",
                f"SELECT iif({n} > 5, 'yes', 'no'), ifnull({c}, '-'), typeof({n}) FROM {t}",
                f"SELECT abs(random()) % 10 >= 0, unixepoch('now') > 0, {n} FROM {t} LIMIT 1",
            )]
    return queries


def spider_columns() -> dict[str, dict[str, list[tuple[str, str]]]]:
    """schema_id -> table -> [(column, declared type)] of the Spider dev schemas."""
    return {db.stem: _columns(db) for db in sorted(SPIDER.glob("schemas/*.sqlite"))}


def numeric(kind: str) -> bool:
    return kind in ("int", "integer", "real", "number", "numeric", "float", "double")


def benign_postgres() -> list[tuple[str, str]]:
    """(schema_id, SELECT) in PostgreSQL's dialect: the same analytic families as `benign`
    (date bucketing, windows, JSON, string cleanup, CASE pivots) written as PostgreSQL users
    write them, over every Spider table that has a text and a numeric column."""
    first = next(iter(spider_columns()))
    queries = [(first, sql) for sql in (
        "VALUES (1, 'a'), (2, 'b')",
        "WITH RECURSIVE days(d) AS (SELECT date '2025-01-01' UNION ALL SELECT d + 1 FROM days "
        "WHERE d < date '2025-01-31') SELECT count(*) FROM days",
        "SELECT date_trunc('week', d)::date AS week, count(*) FROM generate_series("
        "date '2025-01-01', date '2025-03-31', interval '1 day') AS d GROUP BY week ORDER BY 1",
        "SELECT '{\"a\": [1, 2]}'::jsonb -> 'a' ->> 1, jsonb_array_length('[1, 2, 3]'), "
        "json_extract_path_text('{\"a\": {\"b\": 1}}'::json, 'a', 'b')",
        "SELECT current_date - 7, extract(epoch FROM now()) > 0, date_part('dow', now()), "
        "age(timestamp '2025-03-04', timestamp '2024-01-01')",
    )]
    for schema_id, tables in spider_columns().items():
        for table, columns in tables.items():
            text = [c for c, kind in columns if "char" in kind or "text" in kind]
            nums = [c for c, kind in columns if numeric(kind)]
            if not text or not nums:
                continue
            t, c, n = f'"{table}"', f'"{text[0]}"', f'"{nums[0]}"'
            queries += [(schema_id, q) for q in (
                f"SELECT * FROM {t} LIMIT 5",
                f"SELECT count(*) FROM {t}",
                f"SELECT {c}, count(*) AS n FROM {t} GROUP BY {c} ORDER BY n DESC LIMIT 3",
                f"SELECT max({n}), min({n}), avg({n}), sum({n}) FROM {t}",
                f"SELECT DISTINCT {c} FROM {t} WHERE {c} IS NOT NULL ORDER BY {c}",
                f"SELECT {c} FROM {t} WHERE {c} ILIKE '%a%' OR {c} LIKE 'B%'",
                f"WITH x AS (SELECT {c}, {n} FROM {t}) SELECT count(*) FROM x WHERE {n} > 0",
                f"SELECT {c}, row_number() OVER (ORDER BY {n} DESC) AS r FROM {t}",
                f"SELECT {c}, {n}, rank() OVER (PARTITION BY {c} ORDER BY {n} DESC) FROM {t}",
                f"SELECT CASE WHEN {n} > 10 THEN 'big' ELSE 'small' END AS size, count(*) "
                f"FROM {t} GROUP BY size",
                f"SELECT {c} FROM {t} WHERE {n} IN (SELECT {n} FROM {t} WHERE {n} BETWEEN 1 "
                f"AND 100)",
                f"SELECT upper({c}), length({c}), char_length({c}) FROM {t} ORDER BY 2 DESC "
                f"LIMIT 5",
                f"SELECT coalesce({c}, 'none'), CAST({n} AS TEXT), {n}::text FROM {t}",
                f"SELECT {c} FROM {t} GROUP BY {c} HAVING count(*) > 1",
                f"SELECT a.{c} FROM {t} AS a JOIN {t} AS b ON a.{n} = b.{n} LIMIT 10",
                f"SELECT {c} FROM {t} UNION SELECT {c} FROM {t} ORDER BY 1",
                f"SELECT {c} FROM {t} EXCEPT SELECT {c} FROM {t} WHERE {n} < 0",
                f"SELECT * FROM (SELECT {c}, {n} FROM {t} ORDER BY {n}) AS s LIMIT 3",
                f"SELECT round(avg({n})::numeric, 2), lower(trim({c})) FROM {t} GROUP BY 2",
                f"SELECT to_char(date_trunc('month', now()), 'YYYY-MM') AS month, count(*) "
                f"FROM {t} GROUP BY month",
                f"SELECT {c}, {n}, sum({n}) OVER (ORDER BY {n} ROWS BETWEEN 2 PRECEDING AND "
                f"CURRENT ROW) AS moving FROM {t}",
                f"SELECT {c}, lag({n}) OVER (ORDER BY {n}), nth_value({n}, 2) OVER () FROM {t}",
                f"SELECT ntile(4) OVER (ORDER BY {n}) AS quartile, {n} FROM {t}",
                f"SELECT sum(CASE WHEN {n} > 10 THEN 1 ELSE 0 END) AS high, "
                f"count(*) FILTER (WHERE {n} <= 10) AS low FROM {t}",
                f"SELECT regexp_replace(lower(trim({c})), '\\s+', '_', 'g'), substr({c}, 1, 3), "
                f"strpos({c}, 'a'), split_part({c}, ' ', 1), initcap({c}), left({c}, 2) "
                f"FROM {t}",
                f"SELECT {c} FROM {t} WHERE lower({c}) = lower('abc') OR {c} ~* '^[a-m]'",
                f"SELECT json_build_object('name', {c}, 'n', {n}) FROM {t} LIMIT 3",
                f"SELECT json_agg({c}), jsonb_agg({n}), string_agg({c}, ', ' ORDER BY {c}) "
                f"FROM {t}",
                f"SELECT e.value FROM {t}, jsonb_array_elements(jsonb_build_array({t}.{n}, "
                f"{t}.{n})) AS e LIMIT 5",
                f"SELECT format('%s rows', count(*)), to_char(avg({n}), 'FM999999990.00') "
                f"FROM {t}",
                f"SELECT greatest({n}, 0), least({n}, 100), nullif({c}, ''), "
                f"concat_ws('-', {c}, {n}) FROM {t}",
                f"SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY {n}) FROM {t}",
                f"SELECT DISTINCT ON ({c}) {c}, {n} FROM {t} ORDER BY {c}, {n} DESC",
                f"SELECT {c}, count(*) FROM {t} GROUP BY ROLLUP ({c})",
                f"SELECT random() >= 0, abs({n}), ceil({n}), floor({n}), sqrt(abs({n})) "
                f"FROM {t} LIMIT 1",
                f"SELECT a.{c}, s.m FROM {t} AS a CROSS JOIN LATERAL (SELECT max(b.{n}) AS m "
                f"FROM {t} AS b WHERE b.{c} = a.{c}) AS s LIMIT 5",
            )]
    return queries
