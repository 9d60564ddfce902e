"""Strange inputs for every route of the app: path values, query strings, forms, JSON bodies.

The route list is read from the app, so a new route is fuzzed without anyone listing it.
Shared by `tests/fuzz/test_routes.py` (bounded, in `make test`) and `bench/fuzz.py` (long).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask
from hypothesis import strategies as st
from werkzeug.routing import Rule

# Names our views read, so that values reach the code rather than being ignored.
FIELD_NAMES = (
    "q",
    "page",
    "before",
    "after",
    "state",
    "method",
    "resource",
    "origin",
    "created_from",
    "created_to",
    "from",
    "to",
    "op_id",
    "actor",
    "action",
    "outcome",
    "image_id",
    "error_q",
    "next",
    "quiet",
    "image_ids",
    "ids_text",
    "reason",
    "ticket",
    "wait",
    "urgent",
    "strict",
    "selection_kind",
    "selection_query",
    "all_matching",
    "source",
    "username",
    "password",
    "password_confirm",
    "role",
    "scope",
    "limit",
    "cursor",
    "version",
    "n",
    "since",
    "v",
    "stop_min",
    "stop_percent",
    "selection_id",
)
NASTY_TEXT = (
    "",
    " ",
    "0",
    "-1",
    "1e400",
    "NaN",
    "9999-12-31",
    "0000-00-00",
    "2026-02-30",
    str(2**63),
    str(10**25),
    "-" + str(2**64),
    "../../etc/passwd",
    "a/b",
    "%2F",
    "\x00",
    "\r\n//evil.example",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "((((",
    "t~",
    "id=",
    "ø" * 300,
    "💥",
    "x" * 5000,
    "true",
    "[]",
    "{}",
    "²",
    "٣",
    "１２",
    "1_000",
    " 7",
)

# Lone surrogates cannot travel in a URL or a form; JSON bodies get them ("\ud800").
texts = st.one_of(
    st.sampled_from(NASTY_TEXT),
    st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=60),
)
ints = st.one_of(
    st.integers(min_value=-5, max_value=5),
    st.integers(min_value=2**31 - 2, max_value=2**31 + 2),
    st.integers(min_value=2**63 - 2, max_value=2**64 + 2),
    st.integers(min_value=10**20, max_value=10**30),
)
json_values = st.recursive(
    st.none() | st.booleans() | ints | st.floats(allow_nan=False) | texts | st.just("\ud800"),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(FIELD_NAMES) | texts, children, max_size=4)
    ),
    max_leaves=12,
)
fields = st.dictionaries(st.sampled_from(FIELD_NAMES), texts, max_size=6)


@dataclass(frozen=True)
class Call:
    """One request to make: method, path, query, form and JSON body."""

    method: str
    rule: str
    path: str
    query: dict[str, str]
    form: dict[str, str]
    body: Any
    nested_json: bool = False


# Ending the fuzzer's own session would leave every later input at the login redirect; these
# two take no input but the CSRF token anyway.
SESSION_ENDERS = ("auth.logout", "auth.logout_everywhere")


def fuzzable_rules(app: Flask) -> list[tuple[Rule, str]]:
    """Every (rule, method) the app serves, but static files and the session enders."""
    return sorted(
        (
            (rule, method)
            for rule in app.url_map.iter_rules()
            if rule.endpoint != "static" and rule.endpoint not in SESSION_ENDERS
            for method in sorted(rule.methods or ())
            if method not in ("HEAD", "OPTIONS")
        ),
        key=lambda pair: (pair[0].rule, pair[1]),
    )


def _path_value(converter: str) -> st.SearchStrategy[str]:
    if converter == "IntegerConverter" or converter == "RowIdConverter":
        return ints.map(lambda n: str(abs(n)))
    return texts.filter(lambda t: t not in ("", ".", "..") and "/" not in t and "\x00" not in t)


@st.composite
def calls(draw: st.DrawFn, app: Flask, rules: list[tuple[Rule, str]]) -> Call:
    """One strange request to one of `rules`."""
    rule, method = draw(st.sampled_from(rules))
    values = {
        name: draw(_path_value(type(converter).__name__))
        for name, converter in (rule._converters or {}).items()
    }
    adapter = app.url_map.bind("localhost")
    path = adapter.build(rule.endpoint, values, method=method, append_unknown=False)
    nested = method == "POST" and draw(st.integers(0, 9)) == 0
    query, form, body = draw(fields), draw(fields), draw(json_values)
    return Call(method, rule.rule, path, query, form, body, nested)


def send(client: Any, call: Call, token: str | None = None) -> Any:
    """Make the request; a JSON body (and the Bearer token) for the API, a form elsewhere."""
    headers: dict[str, str] = {}
    if call.path.startswith("/api/"):
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if call.nested_json:
            data: Any = "[" * 5000
            return client.open(
                call.path,
                method=call.method,
                data=data,
                headers=headers,
                content_type="application/json",
                query_string=call.query,
            )
        return client.open(
            call.path, method=call.method, json=call.body, headers=headers, query_string=call.query
        )
    form = dict(call.form)
    return client.open(
        call.path,
        method=call.method,
        query_string=call.query,
        data=form if call.method != "GET" else None,
        headers=headers,
    )
