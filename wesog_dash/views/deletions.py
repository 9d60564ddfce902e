"""Deleting images: the confirmation, POST /deletions, and the live page of one request."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from htmx_flask import make_response as htmx_response
from werkzeug.datastructures import MultiDict

from .. import deletions, operations
from ..accounts.permissions import destructive, role_required
from ..config import TRUE_WORDS
from ..models import FINAL_DELETION_STATES, DeletionRequest
from .common import announce_end, no_store, polled, swap_error, wants_fragment
from .live import deletion_live_context
from .selections import MAX_SHOWN, selection_page

bp = Blueprint("deletions", __name__)


@bp.app_context_processor
def deletions_context() -> dict[str, Any]:
    """Template helpers: the marker of a request being sent right now, the final states."""
    return {
        "deletion_sending": deletions.SENDING,
        "deletion_inferred": deletions.INFERRED_MESSAGES,
        "final_deletion_states": FINAL_DELETION_STATES,
    }


def form_flag(form: MultiDict[str, str], name: str) -> bool:
    """A checkbox value: present and truthy."""
    return form.get(name, "").strip().lower() in TRUE_WORDS


@dataclass(frozen=True)
class DeleteForm:
    """The fields of a delete form, as typed."""

    image_ids: list[str]
    reason: str
    ticket: str | None
    wait: bool
    urgent: bool
    strict: bool
    selection_kind: str
    selection_query: str | None
    source: str
    selection_id: int | None = None
    ids_sha256: str | None = None

    @classmethod
    def from_form(cls, form: MultiDict[str, str]) -> DeleteForm:
        """Read the posted form; ids are kept exactly as sent (spaces are part of an id)."""
        kind = form.get("selection_kind", "single")
        ids = [i for i in form.getlist("image_ids") if i != ""]
        return cls(
            image_ids=ids,
            reason=form.get("reason", "").strip(),
            ticket=form.get("ticket", "").strip() or None,
            wait=form_flag(form, "wait"),
            urgent=form_flag(form, "urgent"),
            strict=form_flag(form, "strict"),
            selection_kind=kind if kind in deletions.SELECTION_KINDS else "list",
            selection_query=form.get("selection_query", "").strip() or None,
            source=form.get("source", "page"),
            selection_id=int(sid) if (sid := form.get("selection_id", "")).isdecimal() else None,
            ids_sha256=form.get("ids_sha256") or None,
        )

    def values(self) -> dict[str, Any]:
        """What the form shows again after a refusal."""
        return {"reason": self.reason, "ticket": self.ticket or "", "wait": self.wait,
                "urgent": self.urgent, "strict": self.strict}  # fmt: skip


def ids_from_text(text: str) -> list[str]:
    """Ids pasted one per line (see `deletions.ids_from_text`)."""
    return deletions.ids_from_text(text)


def find_deletion(deletion_id: int) -> DeletionRequest:
    """The request, or a 404 page."""
    deletion = deletions.get_deletion(deletion_id)
    if deletion is None:
        abort(404, description=f"There is no deletion request #{deletion_id}.")
    return deletion


@bp.route("/deletions/new", methods=["GET", "POST"])
@role_required("operator")
@destructive
def deletion_new() -> ResponseReturnValue:
    """Confirm a deletion of several ids (selected cards, or ids pasted one per line)."""
    source = request.form if request.method == "POST" else request.args
    form = DeleteForm.from_form(MultiDict(source))
    if source.get("all_matching") and form.selection_query:
        return confirm_every_match(form)
    ids = list(dict.fromkeys(i for i in source.getlist("image_ids") if i != ""))
    try:
        ids = list(dict.fromkeys([*ids, *ids_from_text(source.get("ids_text", "")), *uploaded()]))
    except deletions.DeletionInputError as exc:
        return confirmation([], form, exc.message)
    if len(ids) > MAX_SHOWN:
        return confirm_stored(ids, form)
    message = None if ids else "Select at least one image (or paste ids, one per line)."
    return confirmation(ids, form, message)


def uploaded() -> list[str]:
    """Ids of the uploaded `.txt`/`.csv` file, if one came with the form."""
    upload = request.files.get("ids_file")
    if upload is None or not upload.filename:
        return []
    return deletions.ids_from_file(upload.filename, upload.read())


def confirmation(ids: list[str], form: DeleteForm, message: str | None) -> ResponseReturnValue:
    """The page that lists exactly the ids that will be sent, with the delete form."""
    problems = [(i, p) for i in ids if (p := deletions.id_problem(i))]
    page = render_template(
        "deletion_new.html", ids=ids, problems=problems, form=form, message=message
    )
    return page, 200 if ids and not message else 422


def confirm_stored(ids: list[str], form: DeleteForm) -> ResponseReturnValue:
    """A long list is checked and stored, then confirmed by count and hash, not id by id."""
    try:
        selection = deletions.store_list(deletions.clean_ids(ids), actor=current_user.username)
    except deletions.DeletionInputError as exc:
        return confirmation([], form, exc.message)
    return redirect(url_for("selections.selection_detail", selection_id=selection.id), 303)


def confirm_every_match(form: DeleteForm) -> ResponseReturnValue:
    """Resolve the search to its ids in the background; its page shows the progress."""
    if request.method != "POST":
        return confirmation(
            [], replace(form, selection_kind="query"), "Start from the images page."
        )
    q = form.selection_query or ""
    selection = deletions.start_query(q, actor=current_user.username)
    return redirect(url_for("selections.selection_detail", selection_id=selection.id), 303)


@bp.post("/deletions")
@role_required("operator")
@destructive
def deletion_create() -> ResponseReturnValue:
    """Record the request (the outbox), send it, and show where to watch it."""
    form = DeleteForm.from_form(request.form)
    try:
        deletion = deletions.request_deletion(
            form.image_ids, form.reason, wait=form.wait, urgent=form.urgent, strict=form.strict,
            ticket=form.ticket, selection_kind=form.selection_kind,
            selection_query=form.selection_query, selection_id=checked_selection(form),
            actor=current_user.username, user_id=current_user.id, remote_addr=request.remote_addr,
        )  # fmt: skip
    except deletions.DeletionInputError as exc:
        return refuse(form, str(exc))
    target = url_for("deletions.deletion_detail", deletion_id=deletion.id)
    if wants_fragment() and form.source == "card":
        response = no_store(render_template("_card_deletion.html", deletion=deletion))
        return htmx_response(
            response, retarget="closest .card-state", trigger={"ops-changed": True}
        )
    if wants_fragment():
        return htmx_response("", 204, redirect=target)
    return redirect(target, 303)


def checked_selection(form: DeleteForm) -> int | None:
    """The stored list the form confirms, if its hash is still the one that was shown."""
    if form.selection_id is None:
        return None
    selection = deletions.get_selection(form.selection_id)
    if selection is None or selection.ids_sha256 != form.ids_sha256:
        raise deletions.DeletionInputError("This list of ids changed; review it again")
    return selection.id


def refuse(form: DeleteForm, message: str) -> ResponseReturnValue:
    """Nothing was sent: show the message with the form as it was typed."""
    selection = deletions.get_selection(form.selection_id) if form.selection_id else None
    if selection is not None and not wants_fragment():
        return selection_page(selection, message, form.values()), 422
    if wants_fragment():
        body = render_template(
            "_delete_form.html", ids=form.image_ids, fid="retry", source=form.source,
            values=form.values(), message=message, selection_kind=form.selection_kind,
            selection_query=form.selection_query,
        )  # fmt: skip
        return swap_error(body, 422)
    problems = [(i, p) for i in form.image_ids if (p := deletions.id_problem(i))]
    page = render_template(
        "deletion_new.html", ids=form.image_ids, problems=problems, form=form, message=message
    )
    return page, 422


@bp.get("/deletions/<int:deletion_id>")
@role_required("viewer")
def deletion_detail(deletion_id: int) -> ResponseReturnValue:
    """One request: who, when, why, its operations and each image's outcome, live."""
    deletion = find_deletion(deletion_id)
    return render_template("deletion.html", deletion=deletion, **deletion_live_context(deletion))


@bp.get("/deletions/<int:deletion_id>/live")
@polled
@role_required("viewer")
def deletion_live(deletion_id: int) -> ResponseReturnValue:
    """The polled part of the deletion page (state, operations, items), from the database."""
    deletion = find_deletion(deletion_id)
    quiet = bool(request.args.get("quiet"))  # embedded in the op page, which toasts itself
    body = render_template(
        "_deletion_live.html", deletion=deletion, quiet=quiet, **deletion_live_context(deletion)
    )
    response = no_store(body) if quiet else toast_when_final(no_store(body), deletion)
    operations.mark_viewed(op.op_id for op in deletion.operations if not op.is_finished)
    return response


@bp.get("/deletions/<int:deletion_id>/card")
@polled
@role_required("viewer")
def deletion_card(deletion_id: int) -> ResponseReturnValue:
    """The polled state of an image card whose deletion was requested, from the database."""
    deletion = find_deletion(deletion_id)
    body = render_template("_card_deletion.html", deletion=deletion)
    return toast_when_final(no_store(body), deletion)


def toast_when_final(response: Any, deletion: DeletionRequest) -> Any:
    """A polled fragment that comes back final announces it once: polling stops there."""
    if not wants_fragment() or deletion.state not in FINAL_DELETION_STATES:
        return response
    if deletion.state == "rejected":
        message = f"Deletion #{deletion.id} was refused: {deletion.message}"
        return announce_end(response, message, "error")
    ops = list(deletion.operations)
    # A refused chunk fails items without any operation counting them: count those too.
    counts = deletions.outcome_counts(deletion.id)  # counted by the database, never loaded
    failed = sum(op.num_bad for op in ops) or counts.get("failed", 0) + counts.get("not_found", 0)
    name = f"Operation #{ops[0].op_id}" if len(ops) == 1 else f"Deletion #{deletion.id}"
    if failed or deletion.state == "done_with_errors":
        plural = "" if failed == 1 else "s"
        return announce_end(response, f"{name} finished with {failed} failure{plural}", "error")
    return announce_end(response, f"{name} finished", "success")
