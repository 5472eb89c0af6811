"""Reading a PostgreSQL plan: scans, modifications and calls as the server renders them."""

from __future__ import annotations

from typing import Any

import pytest

from shoal.tools.pg_plan import check_plan
from shoal.tools.sql_guard import SQLRejected


def _plan(node: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"Plan": node}]


def _scan(relation: str, schema: str = "public", output: str = "t.a") -> dict[str, Any]:
    return {"Node Type": "Seq Scan", "Relation Name": relation, "Schema": schema,
            "Alias": relation, "Output": [output]}


def test_listed_scans_and_allowed_calls_pass() -> None:
    check_plan(_plan({"Node Type": "Aggregate", "Output": [
        "count(*)", "round((avg(t.a))::numeric(10,2), 2)", "lower('pg_sleep(1)'::text)",
        "t.\"Official_ratings_(millions)\"", "pg_catalog.upper(t.b)"],
        "Plans": [_scan("orders")]}), ["orders"])


@pytest.mark.parametrize(("plan", "why"), [
    (_plan(_scan("secrets")), "public.secrets"),
    (_plan(_scan("pg_authid", schema="pg_catalog")), "pg_catalog.pg_authid"),
    (_plan(_scan("orders", output="pg_sleep('5'::double precision)")), "pg_sleep()"),
    (_plan(_scan("orders", output="query_to_xml('select 1'::text, true, true, ''::text)")),
     "query_to_xml()"),
    (_plan({"Node Type": "Function Scan", "Function Name": "dblink", "Schema": "public"}),
     "dblink()"),
    (_plan({"Node Type": "ModifyTable", "Operation": "Delete", "Plans": [_scan("orders")]}),
     "ModifyTable"),
    (_plan({"Node Type": "LockRows", "Plans": [_scan("orders")]}), "LockRows"),
])
def test_what_the_plan_shows_is_refused(plan: list[dict[str, Any]], why: str) -> None:
    with pytest.raises(SQLRejected, match=why.replace("(", r"\(").replace(")", r"\)")) as info:
        check_plan(plan, ["orders"])
    assert info.value.layer == "connection"


@pytest.mark.parametrize("output", [
    "format('%500000000s'::text, 'x'::text)", "format('%*s'::text, 5, 'x'::text)",
    "format(t.b, 1)", "rpad('x'::text, 200000000, 'y'::text)", "lpad(t.b, t.a, '0'::text)",
])
def test_value_building_calls_follow_the_static_rules(output: str) -> None:
    with pytest.raises(SQLRejected, match="literal"):
        check_plan(_plan(_scan("orders", output=output)), ["orders"])
    check_plan(_plan(_scan("orders", output="format('%s, %s'::text, lpad(t.b, 10, "
                                            "'0'::text), t.a)")), ["orders"])
