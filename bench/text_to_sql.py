"""Text-to-SQL on the Spider dev questions (../shared/data/spider_dev), side by side in one run:
  raw-0.5b       qwen2.5-coder-0.5b zero-shot: DDL + question in, SQL text out, run as is
  raw-1.5b       qwen2.5-coder-1.5b zero-shot, the same prompt: the baseline a user would pick
  shoal          the default pipeline, the confidence cascade: one greedy 0.5B query (schema
                 with keys and descriptions, stored-value hints, literals spelled as stored);
                 the 1.5B writes it instead when it fails, returns nothing or its token
                 confidence is below 0.85
  shoal-0.9      the cascade escalating below a token confidence of 0.9
  shoal-small    the same with the 0.5B alone (no escalation; a failing query is repaired)
  shoal-errors   the cascade escalating only queries that fail or return nothing
  shoal-samples  the cascade with sample values of the text columns in the schema
  shoal-vote     the agreement cascade: the 0.5B answers through two views of the schema
                 (with and without sample values); equal results are accepted, else the
                 1.5B answers
  shoal-1.5b     the pipeline with the 1.5B alone

    .venv/bin/python -m bench.text_to_sql [--limit 80] [--modes raw-0.5b,raw-1.5b,shoal,...]
                                          [--rounds 1]

Each mode runs over every question before the next starts (as one user would run it), so the
llama.cpp prompt cache serves each the way it would in use. The schema files are empty; each
is copied and filled with seeded random rows (text columns draw from the string literals of
that schema's gold queries, so filters can match). A prediction is correct when its result
equals the gold result as Spider's execution metric compares them: the same rows (as a
multiset; in order when the gold query has ORDER BY), with the columns in any order. CPU seconds
are the process's and its llama.cpp workers' (one process per model), every thread included.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import random
import re
import shutil
import sqlite3
import statistics
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shoal.agents.library.sql_writer import clean_sql
from shoal.graphs.runner import GraphDefinition
from shoal.graphs.text_to_sql import CONFIDENT, TextToSqlDeps, ask, text_to_sql_definition
from shoal.models import ChatOptions, ChatRequest, Message
from shoal.session import Session
from shoal.settings import load_settings


@dataclass
class Score:
    correct: int = 0
    valid: int = 0
    escalated: int = 0
    seconds: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    tokens: list[int] = field(default_factory=list)


MODES = ("raw-0.5b", "raw-1.5b", "shoal", "shoal-0.9", "shoal-small", "shoal-errors",
         "shoal-samples", "shoal-vote", "shoal-1.5b")
SMALL, BIG = "pack:qwen2.5-coder-0.5b", "pack:qwen2.5-coder-1.5b"


# shared/ lies beside the repo (as in CI); SHOAL_SPIDER_DIR overrides
SPIDER = Path(os.environ.get("SHOAL_SPIDER_DIR") or
              Path(__file__).resolve().parents[2] / "shared" / "data" / "spider_dev")
ROWS = 40


def _literals(sqls: list[str]) -> list[str]:
    found = set()
    for sql in sqls:
        for single, double in re.findall(r"'([^']*)'|\"([^\"]*)\"", sql):
            found.add(single or double)
    return sorted(found - {""})


def fill(schema: Path, target: Path, literals: list[str], seed: int) -> None:
    """Copy an empty schema and insert seeded random rows into every table."""
    shutil.copy(schema, target)
    rng = random.Random(seed)
    connection = sqlite3.connect(target)
    tables = [r[0] for r in connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'")]
    for table in tables:
        columns = connection.execute(f'PRAGMA table_info("{table}")').fetchall()
        words = literals + [f"{table[:4]}_{k}" for k in range(6)]
        for row in range(1, ROWS + 1):
            values: list[Any] = []
            for _, name, kind, _, _, pk in columns:
                kind = (kind or "").lower()
                if pk:
                    values.append(row if "int" in kind or kind == "number" else f"{name}_{row}")
                elif any(k in kind for k in ("int", "number", "numeric")):
                    values.append(rng.randint(1, ROWS // 2))
                elif any(k in kind for k in ("real", "float", "double", "decimal")):
                    values.append(round(rng.uniform(1, 100), 1))
                else:
                    values.append(rng.choice(words))
            marks = ", ".join("?" for _ in values)
            try:
                connection.execute(f'INSERT INTO "{table}" VALUES ({marks})', values)
            except sqlite3.IntegrityError:
                continue
    connection.commit()
    connection.close()


def result(db: Path, sql: str) -> tuple[bool, Any]:
    """(ran, rows) on a read-only connection."""
    connection = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return True, connection.execute(sql).fetchmany(10_000)
    except sqlite3.Error:
        return False, None
    finally:
        connection.close()


def _rounded(rows: list[Any]) -> list[tuple[Any, ...]]:
    return [tuple(round(v, 4) if isinstance(v, float) else v for v in row) for row in rows]


def same(gold_sql: str, gold: list[Any], predicted: list[Any] | None) -> bool:
    """Spider's execution match: some order of the predicted columns gives the gold rows."""
    if predicted is None:
        return False
    norm, pred = _rounded(gold), _rounded(predicted)
    if len(norm) != len(pred) or (norm and len(norm[0]) != len(pred[0])):
        return False
    ordered = "order by" in gold_sql.lower()
    width = len(norm[0]) if norm else 0
    for order in itertools.islice(itertools.permutations(range(width)), 720):
        moved = [tuple(row[i] for i in order) for row in pred]
        if (norm == moved) if ordered else (Counter(norm) == Counter(moved)):
            return True
    return False


async def raw_sql(question: dict[str, Any], session: Session, uri: str) -> tuple[str, int]:
    model = session.model(uri)
    prompt = f"{question['ddl']}\n\n-- SQLite query answering: {question['question']}"
    reply = await model.chat(ChatRequest(messages=(Message.user(prompt),),
                                         options=ChatOptions(temperature=0, max_tokens=256)))
    return clean_sql(reply.text), reply.usage.total_tokens


def cpu_seconds() -> float:
    """CPU seconds of this process and its children still running: the llama.cpp workers
    (one process per model) read from /proc, since they have not exited."""
    total = time.process_time()
    tick = os.sysconf("SC_CLK_TCK")
    for child in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = child.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == os.getpid():  # ppid
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]


def pipeline(session: Session, db: Path, mode: str) -> GraphDefinition[TextToSqlDeps]:
    return text_to_sql_definition(
        session, db_url=f"sqlite:///{db}", small=BIG if mode == "shoal-1.5b" else SMALL,
        big=None if mode in ("shoal-small", "shoal-1.5b") else BIG,
        min_confidence={"shoal-errors": None, "shoal-0.9": 0.9}.get(mode, CONFIDENT),
        vote=mode == "shoal-vote", samples=mode == "shoal-samples")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=80)
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--rounds", type=int, default=1,
                        help="run the modes in turn this many times (the time of a 2-core "
                        "machine drifts by 15%% from run to run): every figure is the mean "
                        "over the rounds, s/q is also shown per round")
    args = parser.parse_args()
    questions = [json.loads(line) for line in
                 (SPIDER / "dev.jsonl").read_text().splitlines()][: args.limit]
    modes = args.modes.split(",")
    scores = {m: Score() for m in modes}
    # no call cache: the bench measures model calls, not an earlier run's answers
    async with Session(load_settings()) as session:
        for _ in range(args.rounds):
            await _run(questions, modes, scores, session)
    n = len(questions) * args.rounds
    print(f"\n{n} Spider dev questions on {len({q['schema_id'] for q in questions})} schemas "
          "filled with seeded random rows; 2-core CPU, no call cache")
    print(f"{'mode':<14}{'exec acc':>9}{'valid SQL':>10}{'s/q mean':>9}{'s/q p90':>8}"
          f"{'CPU s/q':>8}{'tokens/q':>9}{'escalated':>10}  s/q per round")
    for mode in modes:
        s = scores[mode]
        rounds = [statistics.mean(s.seconds[i:i + len(questions)])
                  for i in range(0, len(s.seconds), len(questions))]
        print(f"{mode:<14}{s.correct / n:>9.1%}{s.valid / n:>10.1%}"
              f"{statistics.mean(s.seconds):>9.2f}{p90(s.seconds):>8.2f}"
              f"{statistics.mean(s.cpu):>8.2f}{statistics.mean(s.tokens):>9.0f}"
              f"{s.escalated / n:>10.1%}  {' '.join(f'{r:.2f}' for r in rounds)}")


async def _run(questions: list[dict[str, Any]], modes: list[str], scores: dict[str, Score],
               session: Session) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        dbs = {}
        for index, schema_id in enumerate(sorted({q["schema_id"] for q in questions})):
            gold = [q["gold_sql"] for q in questions if q["schema_id"] == schema_id]
            dbs[schema_id] = Path(tmp) / f"{schema_id}.sqlite"
            fill(SPIDER / "schemas" / f"{schema_id}.sqlite", dbs[schema_id], _literals(gold),
                 seed=index)
        golds = {q["id"]: result(dbs[q["schema_id"]], q["gold_sql"])[1] for q in questions}
        for mode in modes:
            definitions = {schema_id: pipeline(session, db, mode) for schema_id, db in
                           dbs.items()} if mode.startswith("shoal") else {}
            score = scores[mode]
            for number, q in enumerate(questions, 1):
                db = dbs[q["schema_id"]]
                started, cpu = time.perf_counter(), cpu_seconds()
                if mode.startswith("raw"):
                    sql, tokens = await raw_sql(q, session, SMALL if mode == "raw-0.5b" else BIG)
                    escalated = False
                else:
                    state = await ask(definitions[q["schema_id"]], q["question"])
                    sql, tokens = state.get("sql") or "", state.get("tokens", 0)
                    escalated = bool(state.get("escalated"))
                score.seconds.append(time.perf_counter() - started)
                score.cpu.append(cpu_seconds() - cpu)
                ran, rows = result(db, sql) if sql else (False, None)
                score.valid += ran
                score.correct += ran and same(q["gold_sql"], golds[q["id"]], rows)
                score.tokens.append(tokens)
                score.escalated += escalated
                print(f"  {mode} {number}/{len(questions)}", flush=True, end="\r")


if __name__ == "__main__":
    asyncio.run(main())
