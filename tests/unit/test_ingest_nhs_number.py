import pytest

from eahub.ingest import nhs_number

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("value", ["9434765919", "943 476 5919", "4010232137", "9990000018"])
def test_valid_numbers(value: str) -> None:
    assert nhs_number.problem(value) is None


def test_wrong_check_digit() -> None:
    assert nhs_number.problem("9434765910") == "check digit does not match"


def test_first_nine_digits_that_admit_no_check_digit() -> None:
    assert nhs_number.check_digit("100000001") is None
    assert "no check digit exists" in (nhs_number.problem("1000000010") or "")


@pytest.mark.parametrize(
    "value", ["943476591", "94347659199", "943-476-5919", "94347659I9", "", " 9434765919"])
def test_malformed(value: str) -> None:
    assert nhs_number.problem(value) == "must be 10 digits (optionally grouped 3 3 4 with spaces)"


def test_remainder_zero_gives_check_digit_zero() -> None:
    # 11 - (sum % 11) == 11 means check digit 0
    nine = next(f"{i:09d}" for i in range(100000000, 100001000) if nhs_number.check_digit(f"{i:09d}") == 0)
    assert nhs_number.complete(nine) == nine + "0"
    assert nhs_number.problem(nine + "0") is None
