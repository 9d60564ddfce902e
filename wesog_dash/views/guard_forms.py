"""The forms of the guard rails: a retention policy, and the approval (or rejection) of a
policy's dry run or of a deletion waiting for a second person. Limits come from the services.
"""

from __future__ import annotations

from wtforms import HiddenField, IntegerField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from .. import deletions, policies
from ..policies.schedule import MAX_EVERY_MINUTES
from .forms import OneErrorForm, strip


def reason_field(label: str = "Reason") -> TextAreaField:
    """A required reason of at most deletions.MAX_REASON characters."""
    return TextAreaField(
        label,
        filters=[strip],
        validators=[
            InputRequired(message="A reason is required"),
            Length(max=deletions.MAX_REASON),
        ],
        render_kw={"rows": 2, "maxlength": deletions.MAX_REASON},
    )


class PolicyForm(OneErrorForm):
    """A retention policy: name, formula, every N minutes or a cron expression, limit, reason."""

    name = StringField(
        "Name",
        filters=[strip],
        validators=[InputRequired(message="A name is required"), Length(max=64)],
        description="letters, digits, '.', '-', '_'",
        render_kw={"maxlength": 64},
    )
    query = StringField(
        "Search formula",
        filters=[strip],
        validators=[InputRequired(message="A search formula is required"), Length(max=2000)],
        description="as on the images page, e.g. t~draft && d<2024-01-01",
        render_kw={"maxlength": 2000},
    )
    every_minutes = IntegerField(
        "Every (minutes)",
        validators=[Optional(), NumberRange(1, MAX_EVERY_MINUTES)],
        description="or leave empty and give a cron expression",
    )
    cron = StringField(
        "Cron expression (UTC)",
        filters=[strip],
        validators=[Optional(), Length(max=120)],
        description="minute hour day month weekday, e.g. 0 3 * * *",
        render_kw={"maxlength": 120},
    )
    max_images = IntegerField(
        "Most images one run deletes",
        validators=[
            InputRequired(message="Say how many images one run may delete"),
            NumberRange(1, deletions.MAX_IDS),
        ],
    )
    reason = reason_field()

    def rule(self) -> policies.PolicyRule:
        """The policy as typed, for `policies.add_policy` / `change_policy` to check."""
        return policies.PolicyRule(
            self.name.data or "",
            self.query.data or "",
            self.every_minutes.data,
            self.cron.data or None,
            self.max_images.data or 0,
            self.reason.data or "",
        )


class ApprovalForm(OneErrorForm):
    """Approve (or reject) what was shown: the version (or list hash) travels with the form."""

    reason = reason_field("Why")
    seen = HiddenField(filters=[strip])
