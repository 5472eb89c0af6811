"""The SQL guard: >= 300 attacks each refused by at least two layers (each layer tested
alone), >= 300 benign analytic SELECTs accepted by every layer."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from shoal.tools.sql_guard import SQLRejected, check_sql, run_readonly_sqlite

from .corpus import SECRET, SPIDER, TARGET, attack_categories, attacks, benign

ATTACKS = attacks()
BENIGN = benign()


@pytest.fixture(scope="module")
def attack_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("guard") / "shop.db"
    connection = sqlite3.connect(path)
    connection.executescript(f"CREATE TABLE {TARGET} (id INTEGER PRIMARY KEY, name TEXT);"
                             f"INSERT INTO {TARGET} (name) VALUES ('Ada'), ('Linus');"
                             f"CREATE TABLE {SECRET} (id INTEGER PRIMARY KEY, value TEXT);"
                             f"INSERT INTO {SECRET} (value) VALUES ('hunter2');")
    connection.commit()
    connection.close()
    return path


def _snapshot(path: Path) -> bytes:
    return path.read_bytes()


def test_corpora_are_large_enough() -> None:
    assert len(ATTACKS) >= 300 and len(set(ATTACKS)) >= 300
    assert all(len(sqls) >= 5 for sqls in attack_categories().values())
    assert len(BENIGN) >= 300


@pytest.mark.parametrize("sql", ATTACKS)
def test_static_layer_alone_refuses_every_attack(sql: str) -> None:
    with pytest.raises(SQLRejected) as info:
        check_sql(sql, allowed_tables=[TARGET])
    assert info.value.layer == "static"


def test_connection_layer_alone_refuses_every_attack(attack_db: Path, tmp_path: Path) -> None:
    before = _snapshot(attack_db)
    accepted = []
    for sql in ATTACKS:
        try:
            result = run_readonly_sqlite(attack_db, sql, allowed_tables=[TARGET])
        except SQLRejected as exc:
            assert exc.layer in ("connection", "limits")
            continue
        accepted.append((sql, result.rows[:1]))
        assert "hunter2" not in repr(result.rows)
    assert _snapshot(attack_db) == before  # nothing was written, whatever ran
    assert not Path("/tmp/evil.db").exists() and not Path("/tmp/copy.db").exists()
    assert accepted == [], f"{len(accepted)} attacks ran on the read-only connection"


def test_limits_layer_stops_runaway_queries(attack_db: Path) -> None:
    from shoal.tools.sql_guard import GuardLimits

    slow = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
            "SELECT count(*) FROM c")
    with pytest.raises(SQLRejected) as info:
        run_readonly_sqlite(attack_db, slow, allowed_tables=[TARGET],
                            limits=GuardLimits(timeout_seconds=0.5))
    assert info.value.layer == "limits"
    big = run_readonly_sqlite(attack_db, f"SELECT * FROM {TARGET}, {TARGET} AS b",
                              allowed_tables=[TARGET], limits=GuardLimits(max_rows=2))
    assert big.truncated and len(big.rows) == 2


def test_benign_queries_pass_every_layer(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                         ) -> None:
    refused = []
    for schema_id, sql in BENIGN:
        db = SPIDER / "schemas" / f"{schema_id}.sqlite"
        copy = tmp_path / f"{schema_id}.sqlite"
        if not copy.exists():
            shutil.copy(db, copy)
        tables = [r[0] for r in sqlite3.connect(copy).execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")]
        try:
            check_sql(sql, allowed_tables=tables)
            run_readonly_sqlite(copy, sql, allowed_tables=tables)
        except SQLRejected as exc:
            refused.append((sql, str(exc)))
    with capsys.disabled():
        print(f"\nbenign corpus on SQLite: {len(BENIGN) - len(refused)}/{len(BENIGN)} "
              "accepted by every layer")
        for sql, why in refused:
            print(f"  refused {why} <- {sql}")
    assert len(refused) <= len(BENIGN) // 100, refused[:10]


def test_the_allow_list_decides_what_generated_sql_reads(attack_db: Path, tmp_path: Path
                                                         ) -> None:
    from shoal.errors import InputError
    from shoal.tools.sql_database import SQLDatabase

    listed = SQLDatabase(f"sqlite:///{attack_db}", tables=[TARGET])
    assert [t.name for t in listed.tables()] == [TARGET] and SECRET not in listed.ddl()
    assert listed.run(f"SELECT count(*) FROM {TARGET}").rows == [(2,)]
    with pytest.raises(SQLRejected, match="allow-list"):
        listed.run(f"SELECT count(*) FROM {SECRET}")
    everything = SQLDatabase(f"sqlite:///{attack_db}")  # default: all of the user's tables
    assert everything.run(f"SELECT count(*) FROM {SECRET}").rows == [(1,)]
    with pytest.raises(InputError, match="no table nope") as info:
        SQLDatabase(f"sqlite:///{attack_db}", tables=[TARGET, "nope"]).tables()
    assert TARGET in str(info.value.fix)
    memory = tmp_path / "memory.db"  # Shoal's own tables are never readable, even if listed
    shutil.copy(attack_db, memory)
    with sqlite3.connect(memory) as connection:
        connection.execute("CREATE TABLE runs (id TEXT)")
        connection.execute("CREATE TABLE shoal_migrations (id TEXT)")
    assert {t.name for t in SQLDatabase(f"sqlite:///{memory}").tables()} == {TARGET, SECRET}
    with pytest.raises(InputError, match="no table runs"):
        SQLDatabase(f"sqlite:///{memory}", tables=["runs"]).tables()
    with pytest.raises(SQLRejected):
        SQLDatabase(f"sqlite:///{memory}").run("SELECT count(*) FROM runs")


def test_attack_counts_per_category(attack_db: Path, capsys: pytest.CaptureFixture[str]
                                    ) -> None:
    """Each class refused by each layer alone; the counts are printed for the record."""
    rows = []
    for category, sqls in attack_categories().items():
        static = connection = 0
        for sql in sqls:
            try:
                check_sql(sql, allowed_tables=[TARGET])
            except SQLRejected:
                static += 1
            try:
                run_readonly_sqlite(attack_db, sql, allowed_tables=[TARGET])
            except SQLRejected:
                connection += 1
        rows.append((category, len(sqls), static, connection))
    with capsys.disabled():
        print("\nattacks by class (SQLite): total, refused by static alone, by connection alone")
        for row in rows:
            print(f"  {row[0]:<40}{row[1]:>6}{row[2]:>8}{row[3]:>8}")
    assert all(total == static == connection for _, total, static, connection in rows)
