import pytest

from shoal.tools import FunctionTool, ToolArgumentsError, calculate, tool


@tool
async def lookup(city: str, days: int = 1) -> dict[str, object]:
    """Weather forecast for a city.

    Args:
        city: the city name
        days: how many days ahead
    """
    return {"city": city, "days": days}


def test_schema_comes_from_signature_and_docstring() -> None:
    spec = lookup.spec
    assert spec.name == "lookup" and spec.description == "Weather forecast for a city."
    assert spec.parameters["required"] == ["city"]
    assert spec.parameters["properties"]["days"]["description"] == "how many days ahead"
    assert spec.parameters["additionalProperties"] is False


async def test_arguments_are_validated_before_the_call() -> None:
    assert await lookup.call({"city": "Oslo", "days": "2"}) == {"city": "Oslo", "days": 2}
    with pytest.raises(ToolArgumentsError, match="city: Field required"):
        await lookup.call({"days": 2})
    with pytest.raises(ToolArgumentsError, match="Extra inputs"):
        await lookup.call({"city": "Oslo", "hours": 2})


def test_untyped_functions_are_refused() -> None:
    def bad(x):  # type: ignore[no-untyped-def]  # the point of the test
        return x

    with pytest.raises(TypeError, match="needs a type hint"):
        FunctionTool(bad)


@pytest.mark.parametrize(("expression", "value"), [
    ("(12.5 + 3) * 4", 62.0), ("2^10", 1024.0), ("-7 // 2", -4.0), ("10 % 4", 2.0),
])
def test_calculator(expression: str, value: float) -> None:
    assert calculate(expression) == value


@pytest.mark.parametrize("expression", [
    "__import__('os').system('id')", "open('/etc/passwd')", "9 ** 9999", "1/0", "a + 1",
    "[1, 2]", "True + 1",
])
def test_calculator_refuses_anything_but_arithmetic(expression: str) -> None:
    with pytest.raises(ValueError):
        calculate(expression)
