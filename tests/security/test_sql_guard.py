"""The SQL guard: >= 300 attacks each refused by at least two layers (each layer tested
alone), >= 300 benign analytic SELECTs accepted by every layer."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from shoal.tools.sql_guard import SQLRejected, check_sql, run_readonly_sqlite

from .corpus import SPIDER, TARGET, attacks, benign

ATTACKS = attacks()
BENIGN = benign()


@pytest.fixture(scope="module")
def attack_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("guard") / "shop.db"
    connection = sqlite3.connect(path)
    connection.executescript(f"CREATE TABLE {TARGET} (id INTEGER PRIMARY KEY, name TEXT);"
                             f"INSERT INTO {TARGET} (name) VALUES ('Ada'), ('Linus');")
    connection.commit()
    connection.close()
    return path


def _snapshot(path: Path) -> bytes:
    return path.read_bytes()


def test_corpora_are_large_enough() -> None:
    assert len(ATTACKS) >= 300 and len(set(ATTACKS)) >= 300
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


def test_benign_queries_pass_every_layer(tmp_path: Path) -> None:
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
    assert len(refused) <= len(BENIGN) // 100, refused[:10]
