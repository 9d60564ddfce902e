"""Malformed operation fields become WesogBadResponse, never an OverflowError or a wrong type."""

from __future__ import annotations

import json

import pytest

from wesog_dash.wesog import OperationSnapshot, WesogBadResponse

from .test_types import OP


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("op_id", 1e30),
        ("op_id", 2**64),
        ("op_id", 2**63),
        ("op_id", -1),
        ("op_id", "1001"),
        ("op_id", True),
        ("num_good", "x"),
        ("num_total", 1e400),  # json reads it as infinity
        ("num_bad", 1.5),
        ("is_finished", "yes"),
        ("do_strict", 1),
        ("all_good", "no"),
        ("exec_ms", "slow"),
        ("idle_ms", float("nan")),
        ("errors", "boom"),
        ("errors", [1, 2]),
    ],
)
def test_a_malformed_field_is_a_bad_response(field: str, value: object) -> None:
    with pytest.raises(WesogBadResponse):
        OperationSnapshot.from_json({**OP, "op_id": 5, field: value})


def test_bounds_hold_through_json_and_accept_whole_floats() -> None:
    body = json.loads('{"op_id": 1e400}')
    with pytest.raises(WesogBadResponse):
        OperationSnapshot.from_json({**OP, **body})
    assert OperationSnapshot.from_json({**OP, "op_id": 2**63 - 1}).op_id == 2**63 - 1
    assert OperationSnapshot.from_json({**OP, "num_total": 2.0}).num_total == 2
    assert OperationSnapshot.from_json({**OP}, op_id=7).op_id == 7  # GET /ops/{id} omits it
