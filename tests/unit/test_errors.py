from types import ModuleType

import shoal
import shoal.errors as errors
from shoal.errors import ContextLengthError, ModelError, PackError, ShoalError


def test_every_error_is_a_shoal_error_and_prints_its_fix() -> None:
    for name in errors.__all__:
        assert issubclass(getattr(errors, name), ShoalError)
    error = PackError("chunks missing", model="pack:x", fix="run: shoal models pull x")
    assert isinstance(error, ModelError)
    assert str(error) == "chunks missing\n  fix: run: shoal models pull x"
    assert str(ShoalError("plain")) == "plain"


def test_context_error_carries_sizes() -> None:
    error = ContextLengthError("too long", model="m", prompt_tokens=630, context_length=512)
    assert (error.prompt_tokens, error.context_length, error.model) == (630, 512, "m")


def test_public_names_are_exactly_all() -> None:
    public = {n for n, v in vars(shoal).items()
              if not n.startswith("_") and not isinstance(v, ModuleType)}
    assert public | {"__version__"} == set(shoal.__all__)
