"""Parsing of upstream bodies: tolerant of extra fields, int or string error ids, details."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import requests

from wesog_dash.wesog import OperationSnapshot, WesogBadResponse
from wesog_dash.wesog.responses import detail_message

OP = {
    "method": "del",
    "resource": "image",
    "num_total": 2,
    "num_good": 1,
    "num_bad": 1,
    "is_started": True,
    "is_finished": True,
    "all_good": False,
    "do_wait": False,
    "do_urgent": True,
    "do_strict": True,
    "idle_ms": 12.5,
    "exec_ms": 300,
    "created_at": "2026-01-02T03:04:05.123Z",
    "started_at": "2026-01-02T03:04:05.200Z",
    "finished_at": None,
    "errors": [{"id": 123, "msg": "image not found"}, {"id": "abc", "msg": "x"}],
    "brand_new_field": {"ignored": True},
}


def test_operation_accepts_int_or_string_error_ids_and_extra_fields() -> None:
    op = OperationSnapshot.from_json(OP, op_id=9)
    assert op.op_id == 9
    assert [e.id for e in op.errors] == ["123", "abc"]
    assert op.created_at == datetime(2026, 1, 2, 3, 4, 5, 123000, tzinfo=UTC)
    assert op.finished_at is None
    assert op.raw["brand_new_field"] == {"ignored": True}


def test_unknown_fields_are_kept_in_raw_only() -> None:
    op = OperationSnapshot.from_json({**OP, "raw": "theirs"}, op_id=9)
    assert not hasattr(op, "brand_new_field")
    assert "brand_new_field" not in op.model_dump(exclude={"raw"})
    assert op.raw == {**OP, "raw": "theirs"}  # the body as it came, a field named raw too


def test_a_time_without_zone_is_utc_and_absent_fields_read_as_nothing() -> None:
    op = OperationSnapshot.from_json({"op_id": 4, "created_at": "2026-01-02T03:04:05"})
    assert op.created_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert (op.num_total, op.num_good, op.is_finished, op.all_good, op.idle_ms) == (
        0,
        0,
        False,
        None,
        0.0,
    )
    assert (op.method, op.started_at, op.errors) == (None, None, ())


def test_the_body_op_id_wins_over_the_one_asked_for() -> None:
    assert OperationSnapshot.from_json({**OP, "op_id": 3}, op_id=9).op_id == 3
    assert OperationSnapshot.from_json(OP).op_id is None


def test_operation_with_garbage_is_a_bad_response() -> None:
    with pytest.raises(WesogBadResponse):
        OperationSnapshot.from_json({**OP, "num_total": "many"})
    with pytest.raises(WesogBadResponse):
        OperationSnapshot.from_json(["not", "an", "object"])


def _response(status: int, body: bytes) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body
    return response


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"detail": "Not Found"}', "Not Found"),
        (
            b'{"detail": [{"loc": ["query", "limit"], "msg": "too big", "type": "x"}]}',
            "query.limit: too big",
        ),
        (b"plain text failure", "plain text failure"),
    ],
)
def test_detail_is_read_as_string_list_or_text(body: bytes, expected: str) -> None:
    assert detail_message(_response(422, body)) == expected
