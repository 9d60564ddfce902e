"""Faults for the console's tests: dropped connections and malformed answers.

Dropped connection: the handler shuts the client's TCP socket down (werkzeug's server hands
it over as `werkzeug.socket`), so the client reads no status line at all: requests raises
`requests.exceptions.ConnectionError` (RemoteDisconnected / connection reset). What the
handler returns afterwards is never delivered.

Malformed answers: the `malformed` knob is a list of rules; each 2xx answer of an endpoint
uses up the first rule naming that endpoint. A rule is a JSON object::

    {"endpoint": "search" | "image" | "write" | "op" | "ops_list" | "cancel",
     "field": "count",            # dotted path; list items by index or "*" for every item,
                                  #   e.g. "results.0.image_id", "*.num_good", "errors.*.id"
     "value": "x",                # ...the new JSON value of the field, or
     "raw": "1e400",              # ...JSON text inserted verbatim (1e400, NaN, ...), or
     "drop": true,                # ...remove the field
     "body": "truncated" | "cut" | "not_json" | "html" | "empty",   # instead of "field"
     "status": 200,               # optional: answer with this status instead
     "count": 1}                  # optional: answers it spoils (default 1; null: no limit)

Bodies: "truncated" is the first half of the JSON with a matching Content-Length; "cut"
announces the whole length but sends half, then closes (requests: ChunkedEncodingError);
"not_json" is plain text under a JSON content type; "html" an HTML error page; "empty" nothing.
Endpoints: "search" `GET /imgs`, "image" `GET /imgs/{id}`, "write" every POST/PUT/PATCH/DELETE
on /imgs..., "op" `GET /ops/{op_id}`, "ops_list" `GET /ops`, "cancel" `DELETE /ops/{op_id}`.
"""

from __future__ import annotations

import contextlib
import json
import socket
from typing import Any

from flask import Response, g, request

_WRITES = (
    "image_add",
    "image_replace",
    "image_modify",
    "image_delete",
    "images_add",
    "images_replace",
    "images_modify",
    "images_delete",
)
# Flask endpoint -> the name a rule uses for it.
ENDPOINTS: dict[str, str] = {
    f"wesog_api.{name}": kind
    for name, kind in {
        "image_search": "search",
        "image": "image",
        "operation": "op",
        "operations": "ops_list",
        "operation_cancel": "cancel",
        **dict.fromkeys(_WRITES, "write"),
    }.items()
}
BODIES = ("truncated", "cut", "not_json", "html", "empty")
_RULE_KEYS = {"endpoint", "field", "value", "raw", "drop", "body", "status", "count"}
_RAW = "__wesog_sandbox_raw_value__"
_HTML = b"<html><head><title>502 Bad Gateway</title></head><body>Bad Gateway</body></html>"


class NoAnswer(Exception):
    """Raised by a handler whose client connection was dropped on purpose."""


def drop_connection() -> None:
    """Shut the client's TCP connection down so that it gets no answer, then raise NoAnswer."""
    sock = request.environ.get("werkzeug.socket")
    if sock is None:
        raise RuntimeError("dropping a connection needs werkzeug's server (werkzeug.socket)")
    g.sandbox_dropped = True  # nothing more reaches the client: no fault may be spent on it
    with contextlib.suppress(OSError):  # the client already went away: dropped too
        sock.shutdown(socket.SHUT_RDWR)
    raise NoAnswer


def check_malformed_rules(value: Any) -> str | None:
    """Validate the `malformed` knob; return an error message or None."""
    if not isinstance(value, list):
        return "Input should be a list of rules"
    for index, rule in enumerate(value):
        problem = _rule_problem(rule)
        if problem:
            return f"Rule {index}: {problem}"
    return None


def _rule_problem(rule: Any) -> str | None:
    if not isinstance(rule, dict):
        return "should be an object"
    if set(rule) - _RULE_KEYS:
        return f"unknown keys {sorted(set(rule) - _RULE_KEYS)}"
    if rule.get("endpoint") not in set(ENDPOINTS.values()):
        return f"endpoint should be one of {sorted(set(ENDPOINTS.values()))}"
    count, status = rule.get("count", 1), rule.get("status", 200)
    if count is not None and (not _is_int(count) or count < 1):
        return "count should be an integer >= 1 or null"
    if not _is_int(status) or not 100 <= status <= 599:
        return "status should be an HTTP status code"
    return _change_problem(rule)


def _change_problem(rule: dict[str, Any]) -> str | None:
    """What is wrong with what a rule changes: one field (value, raw or drop), or a whole body."""
    changes = [key for key in ("value", "raw", "drop") if key in rule]
    if "field" not in rule:
        if rule.get("body") not in BODIES or changes:
            return f"a rule needs a field, or a body among {list(BODIES)}"
        return None
    if not isinstance(rule["field"], str) or not rule["field"] or "body" in rule:
        return "field should be a dotted path, without body"
    if len(changes) != 1:
        return "a field rule needs exactly one of value, raw, drop"
    if "raw" in rule and not isinstance(rule["raw"], str):
        return "raw should be a string of JSON text"
    return None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def take_rule(rules: list[dict[str, Any]], endpoint: str) -> dict[str, Any] | None:
    """Use up the first rule for `endpoint` (caller holds the knob lock); None when none."""
    for index, rule in enumerate(rules):
        if rule["endpoint"] != endpoint:
            continue
        count = rule.get("count", 1)
        if count is not None:
            if count <= 1:
                del rules[index]
            else:
                rules[index] = {**rule, "count": count - 1}
        return rule
    return None


def spoil(response: Response, rule: dict[str, Any]) -> Response:
    """Rewrite a JSON answer as the rule says."""
    response.status_code = rule.get("status", response.status_code)
    if "field" in rule:
        body = response.get_json()
        value = _RAW if "raw" in rule else rule.get("value")
        _set_path(body, rule["field"].split("."), value, bool(rule.get("drop")))
        text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        if "raw" in rule:
            text = text.replace(json.dumps(_RAW), rule["raw"])
        response.set_data(text.encode())
        return response
    return _spoil_body(response, rule["body"])


def _spoil_body(response: Response, kind: str) -> Response:
    data = response.get_data()
    if kind == "truncated":
        response.set_data(data[: len(data) // 2])
    elif kind == "cut":
        response.response = [data[: len(data) // 2]]  # Content-Length still says the whole
        response.headers["Content-Length"] = str(len(data))
    elif kind == "not_json":
        response.set_data(b"upstream said: not JSON at all")
    elif kind == "html":
        response.set_data(_HTML)
        response.mimetype = "text/html"
    else:
        response.set_data(b"")
    return response


def _set_path(node: Any, path: list[str], value: Any, drop: bool) -> None:
    """Set (or drop) the value at a dotted path; parts that do not exist are skipped."""
    head, rest = path[0], path[1:]
    if isinstance(node, list):
        indexes = range(len(node)) if head == "*" else [int(head)] if head.isdigit() else []
        targets: list[Any] = [i for i in indexes if i < len(node)]
    elif isinstance(node, dict):
        targets = [head] if rest == [] or head in node else []
    else:
        return
    # Backwards, so that dropping several list items does not shift the ones still to drop.
    for target in sorted(targets, reverse=True) if isinstance(node, list) else targets:
        if rest:
            _set_path(node[target], rest, value, drop)
        elif drop:
            del node[target]
        else:
            node[target] = value
