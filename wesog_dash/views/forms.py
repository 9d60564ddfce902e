"""Every HTML form of the console as a Flask-WTF class: fields, limits and messages live here
and templates render them (`{{ form.reason() }}`), so a limit is written once — and taken
from the service that enforces it (`deletions.MAX_REASON`, `accounts.USERNAME_PATTERN`…).

POST forms carry the CSRF token (CSRFProtect also checks every POST); the GET filter forms
of `/ops` and `/audit` turn CSRF off (`meta.csrf = False`): they change nothing.
"""

from __future__ import annotations

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
from wtforms.fields import DateField
from wtforms.validators import EqualTo, InputRequired, Length, Optional, Regexp

from .. import deletions
from ..accounts.users import MIN_PASSWORD_LENGTH, USERNAME_PATTERN
from ..config import TRUE_WORDS
from ..models import OP_ORIGINS, ROLES
from ..operations import UNFINISHED, OpFilters
from . import display


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


USERNAME_HELP = "letters, digits, '.', '-', '_'"
USERNAME_RULE = Regexp(
    f"^{USERNAME_PATTERN.pattern}$", message=f"A username is 1 to 64 {USERNAME_HELP}."
)


class DeleteForm(FlaskForm):
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
    selection_kind = HiddenField(default="single")
    selection_query = HiddenField(filters=[strip])
    source = HiddenField(default="page")

    @property
    def kind(self) -> str:
        """The selection kind, one of deletions.SELECTION_KINDS."""
        kind = self.selection_kind.data or "single"
        return kind if kind in deletions.SELECTION_KINDS else "list"

    @property
    def first_error(self) -> str | None:
        """The first validation message, for the form's one error line."""
        for errors in self.errors.values():
            if errors:
                return str(errors[0])
        return None


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


class NewUserForm(FlaskForm):
    """An admin creates a console user."""

    username = StringField(
        "Username",
        filters=[strip],
        validators=[InputRequired(), Length(max=64), USERNAME_RULE],
        description=USERNAME_HELP,
        render_kw={"maxlength": 64, "pattern": USERNAME_PATTERN.pattern, "autocomplete": "off",
                   "autocapitalize": "none", "spellcheck": "false"},
    )  # fmt: skip
    role = SelectField("Role", choices=[(r, r) for r in ROLES], default="viewer")
    password = PasswordField(
        "Password",
        validators=[InputRequired(), Length(min=MIN_PASSWORD_LENGTH)],
        description=f"at least {MIN_PASSWORD_LENGTH} characters",
        render_kw={"minlength": MIN_PASSWORD_LENGTH, "autocomplete": "new-password"},
    )
    password_confirm = PasswordField(
        "Password again",
        validators=[InputRequired(), EqualTo("password", message="The two passwords differ.")],
        render_kw={"minlength": MIN_PASSWORD_LENGTH, "autocomplete": "new-password"},
    )


class RoleForm(FlaskForm):
    """An admin changes one user's role."""

    role = SelectField("Role", choices=[(r, r) for r in ROLES])


class SetupForm(NewUserForm):
    """The one-time form that creates the first admin (no role: it is admin)."""

    role = None  # type: ignore[assignment]


class GetForm(FlaskForm):
    """A filter form read from the query string: no CSRF, nothing it changes."""

    class Meta:
        csrf = False


METHODS = ("add", "upd", "del", "multiple")
RESOURCES = ("image", "video", "celebs")


def _any(choices: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [("", "any"), *choices]


class OpsFilterForm(GetForm):
    """Filters of the operations list."""

    state = SelectField(
        "State",
        choices=_any([(UNFINISHED, "Queued or running"), *display.op_state_choices()]),
    )
    method = SelectField(
        "Method", choices=_any([(m, m) for m in ("add", "upd", "del", "multiple")])
    )
    resource = SelectField("Resource", choices=_any([(r, r) for r in ("image", "video", "celebs")]))
    origin = SelectField("Origin", choices=_any([(o, display.word(o)) for o in OP_ORIGINS]))
    created_from = DateField("Created from", validators=[Optional()])
    created_to = DateField("to", validators=[Optional()])

    def to_filters(self) -> tuple[OpFilters, list[str]]:
        """The list's filters; a value that is not a choice or not a date is ignored, and
        a bad date is explained."""
        problems = []
        for day in (self.created_from, self.created_to):
            if day.raw_data and day.raw_data[0].strip() and day.data is None:
                text = day.raw_data[0].strip()
                problems.append(f"{text!r} is not a date (YYYY-MM-DD); that filter is ignored.")
        filters = OpFilters(
            state=chosen(self.state), method=chosen(self.method), resource=chosen(self.resource),
            origin=chosen(self.origin), created_from=self.created_from.data,
            created_to=self.created_to.data,
        )  # fmt: skip
        return filters, problems


def chosen(field: SelectField) -> str | None:
    """The field's value when it is one of its non-empty choices, else None."""
    value = (field.data or "").strip()
    return value if value and value in {choice[0] for choice in field.choices} else None


class AuditFilterForm(GetForm):
    """Filters of the audit log: choices, never raw codes to type."""

    view = SelectField(
        "Show",
        choices=[("", "deletions, admin actions, failed logins"), ("all", "everything")],
        validate_choice=False,
    )
    actor = SelectField("Actor", choices=[("", "anyone")], validate_choice=False)
    action = SelectField("Action", choices=[("", "any")], validate_choice=False)
    outcome = SelectField("Outcome", choices=[("", "any")], validate_choice=False)
