"""Database.offload runs again work that failed only because another writer was in the way
(a serialization failure or deadlock, a still-locked SQLite file), and nothing else."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from shoal.memory import Database


class _DriverError(Exception):
    def __init__(self, message: str, sqlstate: str | None = None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


def _flaky(errors: list[Exception]) -> tuple[list[int], object]:
    calls: list[int] = []

    def work() -> str:
        calls.append(1)
        if errors:
            raise errors.pop(0)
        return "done"

    return calls, work


@pytest.mark.parametrize("orig", [
    _DriverError("could not serialize access", "40001"),
    _DriverError("deadlock detected", "40P01"),
    _DriverError("database is locked")])
async def test_work_in_another_writers_way_runs_again(orig: Exception) -> None:
    calls, work = _flaky([OperationalError("UPDATE runs", {}, orig)] * 2)
    assert await Database("sqlite:///never-opened.db").offload(work) == "done"  # type: ignore[arg-type]
    assert len(calls) == 3


async def test_other_errors_and_the_last_try_reach_the_caller() -> None:
    calls, work = _flaky([IntegrityError("INSERT", {}, _DriverError("duplicate", "23505"))])
    with pytest.raises(IntegrityError):
        await Database("sqlite:///never-opened.db").offload(work)  # type: ignore[arg-type]
    assert len(calls) == 1
    busy = OperationalError("UPDATE", {}, _DriverError("x", "40001"))
    calls, work = _flaky([busy] * 10)
    with pytest.raises(OperationalError):
        await Database("sqlite:///never-opened.db").offload(work)  # type: ignore[arg-type]
    assert len(calls) == 5
