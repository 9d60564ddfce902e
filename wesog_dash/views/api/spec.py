"""The OpenAPI 3.1 document of /api/v1, generated from the code.

Each view is declared once with `@operation(...)`: the same pydantic models read its query
string and body (refusing what does not fit as `invalid-request`) and describe them in the
document. The paths come from Flask's URL map, the schemas from the models (JSON Schema
2020-12, which is what OpenAPI 3.1 uses), and apispec assembles the document.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from apispec import APISpec
from flask import Flask
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode

from ...shapes.schemas import Problem
from ..common import MAX_ROW_ID, MAX_SERIAL_ID
from .inputs import read_body, read_query
from .problems import PROBLEM_MEDIA_TYPE, PROBLEM_TYPES, problem_type

F = TypeVar("F", bound=Callable[..., Any])
REF = "#/components/schemas/{model}"
# `int` is common.RowIdConverter in every route: a row id that fits the database.
ROW_ID = {"type": "integer", "minimum": 0, "maximum": MAX_SERIAL_ID}
CONVERTERS: dict[str, dict[str, Any]] = {"int": ROW_ID, "default": {"type": "string"}}
RULE_PART = re.compile(r"<(?:(\w+)(?:\(([^)]*)\))?:)?(\w+)>")


@dataclass(frozen=True)
class ApiDoc:
    """What one view takes and answers, for the document (and the scope check)."""

    summary: str
    scope: str  # read | operate | public
    query: type[BaseModel] | None = None
    body: dict[str, type[BaseModel] | dict[str, Any]] = field(default_factory=dict)
    # A model (JSON), a literal schema (in `media`, e.g. text/csv) or None (no body).
    responses: dict[int, type[BaseModel] | dict[str, Any] | None] = field(default_factory=dict)
    # Statuses (every problem type of that status), or slugs (only those types).
    problems: tuple[int | str, ...] = ()
    tag: str = "api"
    media: str = "application/json"


def operation(summary: str, *, scope: str, **details: Any) -> Callable[[F], F]:
    """Declare a view: the view gets its `query` and `body` read through the declared
    models, and carries the ApiDoc that `build` documents and the scope check reads."""
    doc = ApiDoc(summary, scope, **details)

    def decorator(view: F) -> F:
        @functools.wraps(view)
        def validated(*args: Any, **kwargs: Any) -> Any:
            if doc.query is not None:
                kwargs["query"] = read_query(doc.query)
            if doc.body:
                kwargs["body"] = read_body(doc.body)
            return view(*args, **kwargs)

        validated.api_doc = doc  # type: ignore[attr-defined]  # read by build and the scope check
        return validated  # type: ignore[return-value]  # same signature as seen by Flask

    return decorator


class Builder:
    """Collects component schemas from pydantic models while paths are added."""

    def __init__(self, spec: APISpec) -> None:
        self.spec = spec
        self.known: set[str] = set()

    def ref(self, model: type[BaseModel], mode: JsonSchemaMode = "serialization") -> dict[str, str]:
        """A $ref to `model`, registering it (and the models it uses) once."""
        name = model.__name__
        if name not in self.known:
            schema = model.model_json_schema(ref_template=REF, mode=mode)
            for sub_name, sub in schema.pop("$defs", {}).items():
                self._add(sub_name, sub)
            self._add(name, schema)
        return {"$ref": REF.format(model=name)}

    def _add(self, name: str, schema: dict[str, Any]) -> None:
        if name not in self.known:
            self.known.add(name)
            self.spec.components.schema(name, schema)

    def body_schema(self, media: str, model: type[BaseModel] | dict[str, Any]) -> dict[str, Any]:
        """A request body schema: a model read in validation mode, or a literal schema."""
        if isinstance(model, dict):
            return model
        if media == "multipart/form-data":
            return form_schema(model)
        return self.ref(model, mode="validation")


def path_of(rule: str) -> tuple[str, list[dict[str, Any]]]:
    """An OpenAPI path and its path parameters from a werkzeug rule."""
    params = []
    for converter, arguments, name in RULE_PART.findall(rule):
        schema = dict(CONVERTERS.get(converter or "default", CONVERTERS["default"]))
        if "signed=True" in arguments:
            schema = {"type": "integer", "minimum": -MAX_ROW_ID, "maximum": MAX_ROW_ID}
        params.append({"name": name, "in": "path", "required": True, "schema": schema})
    return RULE_PART.sub(r"{\3}", rule), params


def without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """An optional field as a form or query string sends it: absent, never `null`."""
    schema = {k: v for k, v in schema.items() if k not in ("title", "default") or v is not None}
    branches = [b for b in schema.pop("anyOf", []) if b != {"type": "null"}]
    if len(branches) == 1:
        schema.update(branches[0])
    elif branches:
        schema["anyOf"] = branches
    schema.pop("title", None)
    return schema


def form_schema(model: type[BaseModel]) -> dict[str, Any]:
    """A multipart body's schema, inline, with no `null` (a form cannot send one)."""
    schema = model.model_json_schema(ref_template=REF, mode="validation")
    schema["properties"] = {k: without_null(v) for k, v in schema["properties"].items()}
    return schema


def query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    """One `in: query` parameter per field of a query model."""
    schema = model.model_json_schema(ref_template=REF, by_alias=True)
    required = set(schema.get("required", ()))
    params = []
    for name, prop in schema["properties"].items():
        param: dict[str, Any] = {"name": name, "in": "query", "required": name in required}
        if "description" in prop:
            param["description"] = prop.pop("description")
        param["schema"] = without_null(prop)
        params.append(param)
    return params


def operation_object(builder: Builder, doc: ApiDoc, view: Callable[..., Any]) -> dict[str, Any]:
    """The OpenAPI Operation Object of one view."""
    text = inspect.cleandoc(view.__doc__ or "")
    found: dict[str, Any] = {"summary": doc.summary, "description": text, "tags": [doc.tag]}
    found["operationId"] = view.__name__
    # OpenAPI 3.1 lets a bearer scheme name the roles it needs: here the token's scope.
    found["security"] = [] if doc.scope == "public" else [{"token": [doc.scope]}]
    if doc.query is not None:
        found["parameters"] = query_parameters(doc.query)
    if doc.body:
        content = {
            media: {"schema": builder.body_schema(media, m)} for media, m in doc.body.items()
        }
        found["requestBody"] = {"required": True, "content": content}
    found["responses"] = responses(builder, doc)
    return found


def responses(builder: Builder, doc: ApiDoc) -> dict[str, Any]:
    """Success answers from the models, then the problems this view may answer."""
    found: dict[str, Any] = {}
    for status, model in doc.responses.items():
        answer: dict[str, Any] = {"description": "OK" if status == 200 else "Accepted"}
        if model is not None:
            schema = model if isinstance(model, dict) else builder.ref(model)
            answer["content"] = {doc.media: {"schema": schema}}
        if status == 202:
            answer["headers"] = {"Location": header("where to follow what was created")}
        found[str(status)] = answer
    slugs = [p for p in doc.problems if isinstance(p, str)]
    statuses = {p if isinstance(p, int) else PROBLEM_TYPES[p][1] for p in doc.problems}
    statuses |= ({401, 403} if doc.scope != "public" else set()) | {500}
    problem = {PROBLEM_MEDIA_TYPE: {"schema": builder.ref(Problem)}}
    for status in sorted(statuses):
        kinds = [slug for slug, (_, code, _) in PROBLEM_TYPES.items() if code == status]
        if status not in doc.problems:  # named by slug: only those
            kinds = [slug for slug in kinds if slug in slugs] or kinds
        described = ", ".join(f"`{slug}`" for slug in kinds)
        found[str(status)] = {"description": f"Problem: {described}", "content": problem}
    if "401" in found:
        found["401"]["headers"] = {"WWW-Authenticate": header('`Bearer realm="wesog-dash"`')}
    return found


def header(description: str) -> dict[str, Any]:
    """A documented response header (always sent)."""
    return {"description": description, "required": True, "schema": {"type": "string"}}


def problem_catalogue() -> str:
    """The problem types as a Markdown list, for the document's description."""
    lines = [
        f"- `{problem_type(slug)}` ({status}) {title}: {text}"
        for slug, (title, status, text) in PROBLEM_TYPES.items()
    ]
    return "\n".join(lines)


DESCRIPTION = (
    "Scripting access to wesog-dash. Authenticate with a personal token "
    "(`flask --app app users token NAME`): `Authorization: Bearer <token>`. A `read` token may "
    "only read; an `operate` token may also do what its owner's role allows. Lists page by "
    "keyset (`before`/`after` cursors given in each answer), newest first. Errors are RFC 9457 "
    "`application/problem+json`; branch on `type`:"
)


def problem_list() -> list[dict[str, Any]]:
    """The problem types, for the `x-problem-types` extension the reference page draws."""
    return [
        {"type": problem_type(slug), "status": status, "title": title, "description": text}
        for slug, (title, status, text) in PROBLEM_TYPES.items()
    ]


def build(app: Flask, prefix: str) -> dict[str, Any]:
    """The whole OpenAPI 3.1 document for the views under `prefix`."""
    spec = APISpec(
        title="wesog-dash API",
        version="1",
        openapi_version="3.1.0",
        info={"description": DESCRIPTION + "\n\n" + problem_catalogue()},
        servers=[{"url": "/"}],
    )
    spec.components.security_scheme("token", {"type": "http", "scheme": "bearer"})
    builder = Builder(spec)
    paths: dict[str, tuple[list[dict[str, Any]], dict[str, Any]]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        view = app.view_functions.get(rule.endpoint)
        doc: ApiDoc | None = getattr(view, "api_doc", None)
        if view is None or doc is None or not rule.rule.startswith(prefix):
            continue
        path, params = path_of(rule.rule)
        _, operations = paths.setdefault(path, (params, {}))
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            operations[method.lower()] = operation_object(builder, doc, view)
    for path, (params, operations) in paths.items():
        spec.path(path=path, operations=operations, parameters=params or None)
    document = spec.to_dict()
    document["security"] = [{"token": []}]
    document["x-problem-types"] = problem_list()
    return document
