"""Every HTML form of the console as a Flask-WTF class: fields, limits and messages live here
and templates render them (`{{ form.reason() }}`), so a limit is written once — and taken
from the service that enforces it (`deletions.MAX_REASON`, `accounts.USERNAME_PATTERN`…).

POST forms carry the CSRF token (CSRFProtect also checks every POST); the GET filter forms
of `/ops` and `/audit` turn CSRF off (`meta.csrf = False`): they change nothing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import (
    BooleanField,
    Field,
    HiddenField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import EqualTo, InputRequired, Length, Optional

from .. import deletions
from ..accounts.users import MIN_PASSWORD_LENGTH, USERNAME_PATTERN
from ..config import TRUE_WORDS
from ..inputs import whole_number
from ..models import OP_ORIGINS, ROLES, parse_day
from ..operations import UNFINISHED, OpFilters
from . import display, words


def strip(value: Any) -> Any:
    """Trim surrounding spaces of a text value (None and others unchanged)."""
    return value.strip() if isinstance(value, str) else value


class FlagField(BooleanField):
    """A checkbox whose posted value counts as on for the console's true words only."""

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = bool(valuelist) and valuelist[0].strip().lower() in TRUE_WORDS


class IdListField(Field):
    """Image ids posted as repeated hidden inputs, kept exactly as sent (spaces belong to an
    id); rendered as those hidden inputs again."""

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = [value for value in valuelist if value != ""]

    def _value(self) -> str:  # pragma: no cover - rendered by __call__
        return ""

    def __call__(self, **kwargs: Any) -> Markup:
        name = escape(self.name)
        inputs = (f'<input type="hidden" name="{name}" value="{escape(v)}">' for v in self.ids)
        return Markup("".join(inputs))

    @property
    def ids(self) -> list[str]:
        """The ids held (none before any data)."""
        return list(self.data or [])


METHODS = ("add", "upd", "del", "multiple")
RESOURCES = ("image", "video", "celebs")


def choices(pairs: Iterable[tuple[str, str]], empty: str | None = None) -> list[SelectChoice]:
    """Select choices from (value, words) pairs, with an empty first choice when given."""
    found = [SelectChoice("", empty)] if empty is not None else []
    return found + [SelectChoice(value, words) for value, words in pairs]


USERNAME_HELP = "letters, digits, '.', '-', '_'"
USERNAME_MAX = 64


class OneErrorForm(FlaskForm):
    """A form whose page shows one error line: the first validation message."""

    @property
    def first_error(self) -> str | None:
        """The first validation message (CSRF included), or None."""
        for errors in self.errors.values():
            if errors:
                return str(errors[0])
        return None


class DeleteForm(OneErrorForm):
    """Delete images: the ids, why (required), a ticket, and the three API options."""

    image_ids = IdListField()
    reason = TextAreaField(
        "Reason",
        filters=[strip],
        validators=[
            InputRequired(message="A reason is required"),
            Length(max=deletions.MAX_REASON),
        ],
        render_kw={"rows": 3, "maxlength": deletions.MAX_REASON},
    )
    ticket = StringField(
        "Ticket",
        filters=[strip],
        validators=[Optional(), Length(max=deletions.MAX_TICKET)],
        render_kw={"maxlength": deletions.MAX_TICKET},
    )
    wait = FlagField("wait", description="The API finishes the deletion before answering.")
    urgent = FlagField("urgent", description="Put the operation at the head of the API's queue.")
    strict = FlagField(
        "strict", description="An id that does not exist counts as a failure (else it is ignored)."
    )
    restorable_only = FlagField(
        "only what can be restored",
        description="Images whose metadata cannot be kept in time are not deleted"
        " (else they are deleted anyway, marked as not restorable).",
    )
    selection_kind = HiddenField(default="single")
    selection_query = HiddenField(filters=[strip])
    source = HiddenField(default="page")
    # A stored list (views/selections.py) is confirmed by its id and the hash that was shown.
    selection_id = HiddenField(filters=[strip])
    ids_sha256 = HiddenField(filters=[strip])
    # Advanced options: the failure threshold, as typed (empty: the configured defaults).
    stop_percent = StringField("Stop when this % failed", filters=[strip])
    stop_min = StringField("…and at least this many images", filters=[strip])

    def options(self, undo_seconds: float) -> deletions.DeletionOptions:
        """The options chosen in the form, with the undo window of the browser's deletions."""
        return deletions.DeletionOptions(
            reason=self.reason.data or "",
            ticket=self.ticket.data or None,
            wait=self.wait.data,
            urgent=self.urgent.data,
            strict=self.strict.data,
            restorable_only=self.restorable_only.data,
            undo_seconds=undo_seconds,
            **self.stop_rule(),
        )

    def stop_rule(self) -> dict[str, Any]:
        """The failure threshold asked for (empty fields: the configured defaults)."""
        percent, least = (self.stop_percent.data or "")[:12], (self.stop_min.data or "")[:12]
        minimum = whole_number(least)
        try:
            ratio = float(percent) / 100 if percent else None
        except ValueError:
            ratio = math.nan  # refused below, with the same sentence
        if (least and minimum is None) or (ratio is not None and math.isnan(ratio)):
            raise deletions.DeletionInputError(
                "The failure threshold is a percentage and a whole number of images"
            )
        return {"stop_ratio": ratio, "stop_min_items": minimum}

    @property
    def stored_list(self) -> int | None:
        """The id of the stored list this form confirms, if any."""
        return whole_number(self.selection_id.data or "", maximum=2**31 - 1)

    @property
    def kind(self) -> str:
        """The selection kind, one of deletions.SELECTION_KINDS."""
        kind = self.selection_kind.data or "single"
        return kind if kind in deletions.SELECTION_KINDS else "list"


class PastedIdsForm(FlaskForm):
    """ "Delete by id": ids pasted from a ticket, split by `deletions.split_pasted`."""

    ids_text = TextAreaField(
        "Image ids",
        validators=[InputRequired(message="Paste at least one image id")],
        description="Separate ids with new lines, commas, semicolons, tabs or spaces.",
        render_kw={"rows": 4, "spellcheck": "false"},
    )


class TrackForm(FlaskForm):
    """Start watching an operation created elsewhere."""

    op_id = StringField(
        "Track an operation",
        filters=[strip],
        validators=[InputRequired(message="Give an operation id")],
        render_kw={"inputmode": "numeric", "pattern": "[0-9]+", "placeholder": "op id", "size": 10},
    )


class UntrackForm(FlaskForm):
    """Stop watching a tracked or imported operation (nothing to fill: the token only)."""


class NewUserForm(OneErrorForm):
    """An admin creates a console user. The accounts service checks the name, the password
    and the role (its messages are the ones shown); the browser gets the same limits."""

    username = StringField(
        "Username",
        description=USERNAME_HELP,
        render_kw={
            "maxlength": USERNAME_MAX,
            "pattern": USERNAME_PATTERN.pattern,
            "autocomplete": "off",
            "autocapitalize": "none",
            "spellcheck": "false",
        },
    )
    role = SelectField(
        "Role", choices=choices((r, r) for r in ROLES), default="viewer", validate_choice=False
    )
    password = PasswordField(
        "Password",
        description=f"at least {MIN_PASSWORD_LENGTH} characters",
        render_kw={"minlength": MIN_PASSWORD_LENGTH, "autocomplete": "new-password"},
    )
    password_confirm = PasswordField(
        "Password again",
        validators=[EqualTo("password", message="The two passwords differ.")],
        render_kw={"minlength": MIN_PASSWORD_LENGTH, "autocomplete": "new-password"},
    )


class RoleForm(FlaskForm):
    """An admin changes one user's role (the service refuses an unknown one)."""

    role = SelectField("Role", choices=choices((r, r) for r in ROLES), validate_choice=False)


class SetupForm(NewUserForm):
    """The one-time form that creates the first admin (no role: it is admin)."""

    role = None
    password_confirm = PasswordField(
        "Password again",
        validators=[EqualTo("password", message="The passwords differ.")],
        render_kw={"minlength": MIN_PASSWORD_LENGTH, "autocomplete": "new-password"},
    )


class GetForm(FlaskForm):
    """A filter form read from the query string: no CSRF, nothing it changes."""

    class Meta:
        csrf = False


class OpsFilterForm(GetForm):
    """Filters of the operations list."""

    state = SelectField(
        "State",
        choices=choices([(UNFINISHED, "Queued or running"), *display.op_state_choices()], "any"),
    )
    method = SelectField("Action", choices=choices(words.METHOD_WORDS.items(), "any"))
    resource = SelectField(
        "Of", choices=choices(((r, w.capitalize()) for r, w in words.RESOURCE_WORDS.items()), "any")
    )
    origin = SelectField(
        "Origin", choices=choices(((o, display.word(o)) for o in OP_ORIGINS), "any")
    )
    # Text, not DateField: `parse_day` (shared with the audit filters) explains a bad day.
    created_from = StringField("Created from", render_kw={"type": "date"})
    created_to = StringField("to", render_kw={"type": "date"})

    def to_filters(self) -> tuple[OpFilters, list[str]]:
        """The list's filters; a value that is not a choice or not a date is ignored, and
        a bad date is explained."""
        problems: list[str] = []
        created_from = parse_day(self.created_from.data, "Created from", problems)
        created_to = parse_day(self.created_to.data, "Created to", problems)
        filters = OpFilters(
            state=chosen(self.state),
            method=chosen(self.method),
            resource=chosen(self.resource),
            origin=chosen(self.origin),
            created_from=created_from,
            created_to=created_to,
        )
        return filters, problems


def chosen(field: SelectField) -> str | None:
    """The field's value when it is one of its non-empty choices, else None."""
    value = (field.data or "").strip()
    return value if value and value in {choice.value for choice in field.choices} else None


class AuditFilterForm(GetForm):
    """Filters of the audit log: choices, never raw codes to type."""

    view = SelectField(
        "Show",
        choices=choices([("all", "everything")], "all but successful logins"),
        validate_choice=False,
    )
    actor = SelectField("Actor", choices=choices([], "anyone"), validate_choice=False)
    action = SelectField("Action", choices=choices([], "any"), validate_choice=False)
    outcome = SelectField("Outcome", choices=choices([], "any"), validate_choice=False)
