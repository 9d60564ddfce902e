"""The operations the API remembers, indexed so that `GET /ops` stays cheap at 100,000 ops.

`GET /ops` parameters (the reference documents none; §7 #16 allows paging):

* none at all: the reference's bare array of every operation, newest first;
* otherwise one window, newest first: `page` (>= 1, default 1) and `limit` (1..1000, default
  100), filtered by `state` (`queued`: not started; `running`: started, not finished;
  `finished`; `unfinished`: queued or running), `method` (`add`, `upd`, `del`, `multiple`),
  `since_op_id` (op_id > N: new ops since the last look) and `before_op_id` (op_id < N:
  keyset paging that new ops cannot shift). `X-Total-Count` gives the number of matches.

Indexes: every op id in ascending order, the same per `method`, and the unfinished ops. A page
costs O(offset + limit), plus O(unfinished) when it filters on the state; no call walks every
operation.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import filterfalse, islice

from werkzeug.datastructures import MultiDict

from .operations import Element, SimulatedOperation
from .validation import QueryParams

OP_STATES: tuple[str, ...] = ("queued", "running", "finished", "unfinished")
OP_METHODS: tuple[str, ...] = ("add", "upd", "del", "multiple")
DEFAULT_LIMIT, MAX_LIMIT = 100, 1000
_BULK_KIND = {"add": "add", "upd": "patch", "del": "del"}
_LIST_PARAMS = ("page", "limit", "state", "method", "since_op_id", "before_op_id")


@dataclass(frozen=True)
class OpsQuery:
    """Filters and window of one `GET /ops`; bounds on op_id are exclusive."""

    state: str | None = None
    method: str | None = None
    since_op_id: int | None = None  # only ops with op_id > since_op_id
    before_op_id: int | None = None  # only ops with op_id < before_op_id
    offset: int = 0
    limit: int | None = None  # None: every match


class OpLog:
    """Operations by id with list indexes; not locked itself (the state's lock guards it)."""

    def __init__(self) -> None:
        self._reset(1)

    def _reset(self, next_id: int) -> None:
        self.ops: dict[int, SimulatedOperation] = {}
        self.unfinished: dict[int, SimulatedOperation] = {}
        self._ids: list[int] = []  # ascending: ids only grow until the next restart
        self._by_method: dict[str, list[int]] = {"add": [], "upd": [], "del": []}
        self.next_id = next_id

    def __len__(self) -> int:
        return len(self.ops)

    def take_id(self) -> int:
        """Reserve the id of a new operation."""
        op_id = self.next_id
        self.next_id += 1
        return op_id

    def add(self, op: SimulatedOperation) -> None:
        """Remember a new operation (its id must be above every remembered one)."""
        self.ops[op.op_id] = op
        self._ids.append(op.op_id)
        self._by_method[op.method].append(op.op_id)
        if not op.is_finished:
            self.unfinished[op.op_id] = op

    def bulk(
        self, count: int, method: str, finished: bool, items: int, now: float
    ) -> list[SimulatedOperation]:
        """Create and remember `count` ops of `items` made-up elements, finished or not."""
        kind = _BULK_KIND[method]
        ops = []
        for _ in range(count):
            op_id = self.take_id()
            elements = () if finished else _bulk_elements(op_id, kind, items)
            op = SimulatedOperation(op_id, kind, elements, False, False, False, now)
            if finished:
                op.started = op.finished = now
                op.num_total = op.num_good = items
            self.add(op)
            ops.append(op)
        return ops

    def finished(self, op: SimulatedOperation) -> None:
        """Note that an operation has finished (ran to the end or was cancelled)."""
        if self.unfinished.get(op.op_id) is op:
            del self.unfinished[op.op_id]

    def forget(self, op_id: int) -> SimulatedOperation | None:
        """Drop one operation from every index; return it (None when unknown)."""
        op = self.ops.pop(op_id, None)
        if op is None:
            return None
        self.unfinished.pop(op_id, None)
        for ids in (self._ids, self._by_method[op.method]):
            del ids[bisect.bisect_left(ids, op_id)]
        op.forgotten = True
        return op

    def clear(self, next_id: int) -> list[SimulatedOperation]:
        """Forget every operation and number new ones from `next_id`; return the forgotten."""
        forgotten = list(self.ops.values())
        for op in forgotten:
            op.forgotten = True
        self._reset(next_id)
        return forgotten

    def select(self, query: OpsQuery) -> tuple[list[SimulatedOperation], int]:
        """One window of the matching operations, newest first, and the number of matches."""
        end = None if query.limit is None else query.offset + query.limit
        if query.state in ("queued", "running", "unfinished"):
            pool = [op for op in self.unfinished.values() if _unfinished_match(op, query)]
            pool.sort(key=lambda op: op.op_id, reverse=True)
            return pool[query.offset : end], len(pool)
        ids = self._ids if query.method is None else self._by_method.get(query.method, [])
        since, before = query.since_op_id, query.before_op_id
        low = 0 if since is None else bisect.bisect_right(ids, since)
        high = len(ids) if before is None else bisect.bisect_left(ids, before)
        total = max(0, high - low)
        newest_first: Iterator[int] = map(ids.__getitem__, range(high - 1, low - 1, -1))
        if query.state == "finished":
            newest_first = filterfalse(self.unfinished.__contains__, newest_first)
            total -= sum(_in_window(op, query) for op in self.unfinished.values())
        window = islice(newest_first, query.offset, end)
        return [self.ops[op_id] for op_id in window], total


def _in_window(op: SimulatedOperation, query: OpsQuery) -> bool:
    """True when the op passes the method and op_id bounds of the query."""
    if query.method is not None and op.method != query.method:
        return False
    if query.since_op_id is not None and op.op_id <= query.since_op_id:
        return False
    return query.before_op_id is None or op.op_id < query.before_op_id


def _unfinished_match(op: SimulatedOperation, query: OpsQuery) -> bool:
    """An unfinished op against a queued / running / unfinished query."""
    if query.state == "queued" and op.started is not None:
        return False
    if query.state == "running" and op.started is None:
        return False
    return _in_window(op, query)


def _bulk_elements(op_id: int, kind: str, items: int) -> list[Element]:
    """Elements of a bulk-created queued op: made-up ids, harmless to delete or update."""
    ids = [f"bulk-{op_id}-{n}" for n in range(items)]
    if kind == "add":
        return [Element(i, {"src": f"https://images.example.com/bulk/{i}.jpg"}) for i in ids]
    return [Element(i, {}) for i in ids]


def parse_ops_query(args: MultiDict[str, str]) -> OpsQuery:
    """Validate the query string of `GET /ops`; raise ValidationFailed with every problem."""
    params = QueryParams(args)
    page = params.integer("page", 1, 1, None) or 1
    limit = params.integer("limit", DEFAULT_LIMIT, 1, MAX_LIMIT) or DEFAULT_LIMIT
    state = params.choice(("state",), OP_STATES, "") or None
    method = params.choice(("method",), OP_METHODS, "") or None
    since = params.integer("since_op_id", None, 0, None)
    before = params.integer("before_op_id", None, 1, None)
    params.check()
    if not any(name in args for name in _LIST_PARAMS):
        return OpsQuery()  # the reference's bare array of every operation (§7 #16)
    return OpsQuery(state, method, since, before, (page - 1) * limit, limit)
