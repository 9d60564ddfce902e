"""Request validation with FastAPI/Pydantic-shaped 422 errors (`{"detail": [{loc,msg,type}]}`)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from werkzeug.datastructures import MultiDict

from .operations import Element
from .records import BOOL_FIELDS, INPUT_FIELDS, LIST_FIELDS, parse_date

LANGS = ("en", "es", "pt", "fr", "ru")
_TRUE, _FALSE = ("true", "1"), ("false", "0")


class ValidationFailed(Exception):
    """Raised with the list of error entries; the API answers 422 with them as `detail`."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(errors)
        self.errors = errors


def error(loc: list[Any], msg: str, type_: str, value: Any = None) -> dict[str, Any]:
    """One Pydantic-style error entry."""
    return {"type": type_, "loc": loc, "msg": msg, "input": value}


def _choices(allowed: Iterable[str]) -> str:
    quoted = [f"'{value}'" for value in allowed]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


class QueryParams:
    """Typed reads of query parameters that collect every error before failing."""

    def __init__(self, args: MultiDict[str, str]) -> None:
        self.args = args
        self.errors: list[dict[str, Any]] = []

    def boolean(self, name: str, default: bool) -> bool:
        """A boolean parameter: true/false/1/0, case-insensitive."""
        raw = self.args.get(name)
        if raw is None:
            return default
        if raw.strip().lower() in _TRUE + _FALSE:
            return raw.strip().lower() in _TRUE
        msg = "Input should be a valid boolean, unable to interpret input"
        self.errors.append(error(["query", name], msg, "bool_parsing", raw))
        return default

    def integer(self, name: str, default: int | None, low: int, high: int | None) -> int | None:
        """An integer parameter within [low, high]."""
        raw = self.args.get(name)
        if raw is None:
            return default
        try:
            value = int(raw.strip())
        except ValueError:
            msg = "Input should be a valid integer, unable to parse string as an integer"
            self.errors.append(error(["query", name], msg, "int_parsing", raw))
            return default
        if value < low:
            msg = f"Input should be greater than or equal to {low}"
            self.errors.append(error(["query", name], msg, "greater_than_equal", raw))
        elif high is not None and value > high:
            msg = f"Input should be less than or equal to {high}"
            self.errors.append(error(["query", name], msg, "less_than_equal", raw))
        return value

    def choice(self, names: tuple[str, ...], allowed: tuple[str, ...], default: str) -> str:
        """An enum parameter, read from the first of `names` present (aliases)."""
        name = next((n for n in names if n in self.args), names[0])
        raw = self.args.get(name)
        if raw is None:
            return default
        if raw not in allowed:
            msg = f"Input should be {_choices(allowed)}"
            self.errors.append(error(["query", name], msg, "enum", raw))
            return default
        return raw

    def choices(self, name: str, allowed: tuple[str, ...]) -> list[str]:
        """A repeatable enum parameter (`fields=a&fields=b`)."""
        values = self.args.getlist(name)
        for index, raw in enumerate(values):
            if raw not in allowed:
                msg = f"Input should be {_choices(allowed)}"
                self.errors.append(error(["query", name, index], msg, "enum", raw))
        return values

    def write_options(self, with_lang: bool) -> tuple[bool, bool, bool]:
        """`wait`, `urgent`, `strict` of a write; `lang` checked when the endpoint has it."""
        options = (
            self.boolean("wait", False),
            self.boolean("urgent", False),
            self.boolean("strict", False),
        )
        if with_lang:
            self.choice(("lang",), LANGS, "es")  # tags are not simulated; only validated
        return options

    def check(self) -> None:
        """Raise ValidationFailed when any read failed."""
        if self.errors:
            raise ValidationFailed(self.errors)


def load_json(raw: bytes) -> Any:
    """Decode a JSON body; a missing or broken body is a 422 like FastAPI's."""
    if not raw.strip():
        raise ValidationFailed([error(["body"], "Field required", "missing")])
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        position = getattr(exc, "pos", 0)
        detail = getattr(exc, "msg", "invalid encoding")
        raise ValidationFailed(
            [error(["body", position], "JSON decode error", "json_invalid", detail)]
        ) from None


def check_image_id(value: Any, loc: list[Any], errors: list[dict[str, Any]]) -> str | None:
    """An image id: a non-empty string without '/' (it must fit in one path segment)."""
    if not isinstance(value, str):
        errors.append(error(loc, "Input should be a valid string", "string_type", value))
        return None
    if not value or "/" in value:
        msg = "Value error, image id must be a non-empty string without '/'"
        errors.append(error(loc, msg, "value_error", value))
        return None
    return value


def _check_field(name: str, value: Any, loc: list[Any]) -> tuple[Any, dict[str, Any] | None]:
    """Validate one ImageIn field; return (normalised value, error or None)."""
    if value is None:
        return None, None
    if name in BOOL_FIELDS:
        if isinstance(value, bool):
            return value, None
        return value, error(loc, "Input should be a valid boolean", "bool_type", value)
    if name in LIST_FIELDS:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return value, error(loc, "Input should be a valid list of strings", "list_type", value)
        return list(value), None
    if not isinstance(value, str):
        return value, error(loc, "Input should be a valid string", "string_type", value)
    if name == "date":
        parsed = parse_date(value)
        if parsed is None:
            msg = "Value error, date must be YEAR-MONTH-DAY"
            return value, error(loc, msg, "value_error", value)
        return parsed.isoformat(), None  # stored zero-padded so sorting by date works
    return value, None


def image_fields(
    body: Any, loc: list[Any], require_src: bool, id_field: bool
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Validate one ImageIn object (batch items carry `id`); return (payload, errors)."""
    if not isinstance(body, dict):
        msg = "Input should be a valid dictionary or object to extract fields from"
        return {}, [error(loc, msg, "model_attributes_type", body)]
    errors: list[dict[str, Any]] = []
    payload: dict[str, Any] = {}
    for name, value in body.items():
        if name == "id" and id_field:
            payload["id"] = check_image_id(value, [*loc, "id"], errors)
        elif name not in INPUT_FIELDS:
            msg = "Extra inputs are not permitted"
            errors.append(error([*loc, name], msg, "extra_forbidden", value))
        else:
            payload[name], problem = _check_field(name, value, [*loc, name])
            errors.extend([problem] if problem else [])
    if id_field and "id" not in body:
        errors.append(error([*loc, "id"], "Field required", "missing", body))
    if require_src and body.get("src") is None:
        errors.append(error([*loc, "src"], "Field required", "missing", body))
    return payload, errors


def require_non_empty_list(body: Any) -> None:
    """A batch body must be a JSON array with at least one element; raise ValidationFailed."""
    if not isinstance(body, list):
        raise ValidationFailed([error(["body"], "Input should be a valid list", "list_type", body)])
    if not body:
        msg = "List should have at least 1 item after validation, not 0"
        raise ValidationFailed([error(["body"], msg, "too_short", body)])


def batch_elements(body: Any, require_src: bool) -> list[Element]:
    """Validate a batch body of ImageIn objects with `id`; raise ValidationFailed."""
    require_non_empty_list(body)
    elements, errors = [], []
    for index, item in enumerate(body):
        payload, problems = image_fields(item, ["body", index], require_src, id_field=True)
        errors.extend(problems)
        if not problems:
            elements.append(Element(payload.pop("id"), payload))
    if errors:
        raise ValidationFailed(errors)
    return elements


def delete_elements(body: Any) -> list[Element]:
    """Validate a batch delete body: ["a", "b"] or [{"id": "a"}, ...] (§7 #24)."""
    require_non_empty_list(body)
    elements, errors = [], []
    for index, item in enumerate(body):
        if isinstance(item, dict):
            for extra in set(item) - {"id"}:
                msg = "Extra inputs are not permitted"
                errors.append(error(["body", index, extra], msg, "extra_forbidden", item[extra]))
            if "id" not in item:
                errors.append(error(["body", index, "id"], "Field required", "missing", item))
                continue
            item = item["id"]
            loc = ["body", index, "id"]
        else:
            loc = ["body", index]
        image_id = check_image_id(item, loc, errors)
        if image_id is not None:
            elements.append(Element(image_id))
    if errors:
        raise ValidationFailed(errors)
    return elements
