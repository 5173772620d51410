import pytest

from common import resources
from common.classes import UsageError


def test_mlp_parameters_by_hand():
    # 2 -> 3 -> 3 -> 1: weights 6 + 9 + 3, biases 3 + 3 + 1
    assert resources.mlp_parameters(2, 3, 2, 1) == 25


def test_what_does_not_fit_is_refused_in_one_line():
    with pytest.raises(UsageError, match="needs about 2.0 GB of memory, but this machine has 1.0 GB"):
        resources.require_fits(2 * 1024**3, "--nhidden 999", available=1024**3)
    resources.require_fits(1024, "a small run", available=1024**3)


def test_available_memory_is_read():
    available = resources.available_bytes()
    assert available is None or available > 1024**2
