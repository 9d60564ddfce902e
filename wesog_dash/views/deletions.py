"""Deleting images: the confirmation, POST /deletions, and the live page of one request."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from htmx_flask import make_response as htmx_response
from werkzeug.datastructures import MultiDict

from .. import deletions, images, operations
from ..accounts.permissions import destructive, role_required
from ..models import FINAL_DELETION_STATES, DeletionRequest
from .approval_panel import approval_context
from .common import announce_end, no_store, polled, requester, undo_seconds, wants_fragment
from .forms import DeleteForm, PastedIdsForm
from .live import deletion_live_context
from .selections import MAX_SHOWN, selection_page

bp = Blueprint("deletions", __name__)
RESTORE_CHECK_MAX = 1000  # a confirmation reads the metadata of at most this many ids


@bp.app_context_processor
def deletions_context() -> dict[str, Any]:
    """Template helpers: the marker of a request being sent right now, the final states."""
    return {
        "deletion_sending": deletions.SENDING,
        "deletion_inferred": deletions.INFERRED_MESSAGES,
        "deletion_waiting": deletions.WAITING,
        "final_deletion_states": FINAL_DELETION_STATES,
        "undo_seconds_left": deletions.seconds_left,
    }


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
    """Confirm a deletion of several ids: ticked cards, ids pasted from a ticket (split on new
    lines, commas, semicolons, tabs and spaces), or every match of a search."""
    source = MultiDict(request.form if request.method == "POST" else request.args)
    form = DeleteForm(formdata=source)
    if source.get("all_matching") and form.selection_query.data:
        return confirm_every_match(form)
    # Ticked ids are kept exactly as sent (a space may belong to one); pasted text is split.
    candidates = [i for i in source.getlist("image_ids") if i != ""]
    try:
        candidates += deletions.split_pasted(source.get("ids_text", "")) + uploaded()
    except deletions.DeletionInputError as exc:
        return confirmation(deletions.Review(), form, exc.message)
    if not candidates:
        flash("Nothing to delete: tick some images, paste ids or upload a file, first.", "error")
        return redirect(url_for("images.image_list", q=form.selection_query.data or None), 303)
    if len(unique := list(dict.fromkeys(candidates))) > MAX_SHOWN:
        return confirm_stored(unique, form)
    return confirmation(deletions.review_ids(candidates), form)


def uploaded() -> list[str]:
    """Ids of the uploaded `.txt`/`.csv` file, if one came with the form."""
    upload = request.files.get("ids_file")
    if upload is None or not upload.filename:
        return []
    return deletions.ids_from_file(upload.filename, upload.read())


def confirmation(
    review: deletions.Review, form: DeleteForm, message: str | None = None
) -> tuple[str, int]:
    """The page that says what will be sent (with thumbnails of the first ones), what was
    dropped and why, the list to edit, and the delete form."""
    ids = review.ids
    lookup = images.look_up(ids) if ids else None
    form.image_ids.data = ids
    if form.kind != "query":
        form.selection_kind.data = "single" if len(ids) == 1 else "list"
    # Read now, so the confirmation says which images could not be restored afterwards.
    checked = ids and not message and len(ids) <= RESTORE_CHECK_MAX
    page = render_template(
        "deletions/deletion_new.html",
        review=review,
        lookup=lookup,
        form=form,
        message=message,
        lookup_limit=images.LOOKUP_LIMIT,
        edit_form=PastedIdsForm(formdata=None, data={"ids_text": "\n".join(ids)}),
        unrestorable=deletions.unrestorable(ids) if checked else None,
        undo_seconds=undo_seconds(),
    )
    return page, 200 if ids and not message else 422


def confirm_stored(ids: list[str], form: DeleteForm) -> ResponseReturnValue:
    """A long list is checked and stored, then confirmed by count and hash, not id by id."""
    try:
        selection = deletions.store_list(deletions.clean_ids(ids), actor=current_user.username)
    except deletions.DeletionInputError as exc:
        return confirmation(deletions.Review(), form, exc.message)
    return redirect(url_for("selections.selection_detail", selection_id=selection.id), 303)


def confirm_every_match(form: DeleteForm) -> ResponseReturnValue:
    """Resolve the search to its ids in the background; its page shows the progress."""
    form.selection_kind.data = "query"
    if request.method != "POST":
        return confirmation(deletions.Review(), form, "Start from the images page.")
    q = form.selection_query.data or ""
    selection = deletions.start_query(q, actor=current_user.username)
    return redirect(url_for("selections.selection_detail", selection_id=selection.id), 303)


@bp.post("/deletions")
@role_required("operator")
@destructive
def deletion_create() -> ResponseReturnValue:
    """Record the request (the outbox), send it, and show where to watch it."""
    form = DeleteForm()
    if not form.validate():
        return refuse(form, form.first_error or "Check the form")
    try:
        deletion = requested(form)
    except deletions.DeletionInputError as exc:
        return refuse(form, str(exc))
    if wants_fragment() and form.source.data == "card":
        return card_sent(deletion)
    target = url_for("deletions.deletion_detail", deletion_id=deletion.id)
    if wants_fragment():
        return htmx_response("", 204, redirect=target)
    return redirect(target, 303)


def requested(form: DeleteForm) -> DeletionRequest:
    """The request the confirmed form asks for: of its stored list, or of the ids it carries."""
    options = form.options(undo_seconds())
    selection_id = checked_selection(form)
    if selection_id is not None:
        return deletions.request_selected(selection_id, options, requester())
    query = form.selection_query.data or None
    return deletions.request_deletion(
        form.image_ids.ids, options, requester(), kind=form.kind, query=query
    )


def card_sent(deletion: DeletionRequest) -> ResponseReturnValue:
    """The card's new state; screen readers hear "Deletion #12 sent" (or "sending in N s", with
    Undo in a toast) and focus moves there (autofocus)."""
    item = deletions.find_item(deletion.id, None)
    body = render_template("images/_card_deletion.html", deletion=deletion, item=item, focus=True)
    response = no_store(body)
    left = deletions.seconds_left(deletion)
    said = (
        f"Deletion #{deletion.id} sent"
        if left is None
        else f"Deletion #{deletion.id}: sending in {left} s"
    )
    return htmx_response(
        response,
        retarget="closest .card-state",
        trigger=created_events(deletion),
        trigger_after_settle={"announce": {"message": said}},
    )


def created_events(deletion: DeletionRequest) -> dict[str, Any]:
    """HX-Trigger events of a new request: a toast with Undo while it waits to be sent (it
    stays that long)."""
    left = deletions.seconds_left(deletion)
    if left is None:
        return {"ops-changed": True}
    undo = url_for("safety.deletion_undo", deletion_id=deletion.id)
    message = f"Deletion #{deletion.id}: sending in {left} s"
    toast = {"message": message, "level": "info", "undo": undo, "seconds": left}
    return {"ops-changed": True, "toast": toast}


def checked_selection(form: DeleteForm) -> int | None:
    """The stored list the form confirms, if its hash is still the one that was shown."""
    if form.stored_list is None:
        return None
    selection = deletions.get_selection(form.stored_list)
    if selection is None or selection.ids_sha256 != form.ids_sha256.data:
        raise deletions.DeletionInputError("This list of ids changed; review it again")
    return selection.id


def refuse(form: DeleteForm, message: str) -> ResponseReturnValue:
    """Nothing was sent: show the message with the form as it was typed."""
    selection = deletions.get_selection(form.stored_list) if form.stored_list else None
    if selection is not None and not wants_fragment():
        return selection_page(selection, message, form), 422
    if wants_fragment():
        body = render_template(
            "deletions/_delete_form.html",
            form=form,
            ids=form.image_ids.ids,
            fid="retry",
            source=form.source.data,
            message=message,
            selection_kind=form.kind,
            selection_query=form.selection_query.data,
            selection_id=form.stored_list,
            ids_sha256=form.ids_sha256.data,
        )
        return body, 422  # swapped in place of the form (shared/base.html: responseHandling)
    body, _ = confirmation(deletions.review_ids(form.image_ids.ids), form, message)
    return body, 422


@bp.get("/deletions/<int:deletion_id>")
@role_required("viewer")
def deletion_detail(deletion_id: int) -> ResponseReturnValue:
    """One request: who, when, why, its operations and each image's outcome, live."""
    deletion = find_deletion(deletion_id)
    context = {**deletion_live_context(deletion), **approval_context(deletion)}
    return render_template("deletions/deletion.html", deletion=deletion, **context)


@bp.get("/deletions/<int:deletion_id>/live")
@polled
@role_required("viewer")
def deletion_live(deletion_id: int) -> ResponseReturnValue:
    """The polled part of the deletion page (state, operations, items), from the database."""
    deletion = find_deletion(deletion_id)
    quiet = bool(request.args.get("quiet"))  # embedded in the op page, which toasts itself
    body = render_template(
        "deletions/_deletion_live.html",
        deletion=deletion,
        quiet=quiet,
        **deletion_live_context(deletion),
    )
    response = no_store(body) if quiet else toast_when_final(no_store(body), deletion)
    if request.args.get("held") and deletion.state != deletions.AWAITING:
        return htmx_response(response, refresh=True)  # approved or rejected: the page redraws
    operations.mark_viewed(op.op_id for op in deletion.operations if not op.is_finished)
    return response


@bp.get("/deletions/<int:deletion_id>/card")
@polled
@role_required("viewer")
def deletion_card(deletion_id: int) -> ResponseReturnValue:
    """The polled state of an image card whose deletion was requested, from the database."""
    deletion = find_deletion(deletion_id)
    item = deletions.find_item(deletion.id, request.args.get("image_id") or None)
    body = render_template("images/_card_deletion.html", deletion=deletion, item=item)
    return toast_when_final(no_store(body), deletion)


def toast_when_final(response: Any, deletion: DeletionRequest) -> Any:
    """A polled fragment that comes back final announces it once: polling stops there."""
    if not wants_fragment() or deletion.is_live:
        return response
    if deletion.state == "rejected":
        message = f"Deletion #{deletion.id} was refused: {deletion.message}"
        return announce_end(response, message, "error")
    if deletion.state in ("cancelled", "stopped"):
        message = f"Deletion #{deletion.id} {deletion.state}: {deletion.message}"
        return announce_end(response, message, "info" if deletion.state == "cancelled" else "error")
    ops = list(deletion.operations)
    # A refused chunk fails items without any operation counting them: count those too.
    counts = deletions.outcome_counts(deletion.id)  # counted by the database, never loaded
    failed = sum(op.num_bad for op in ops) or counts.get("failed", 0) + counts.get("not_found", 0)
    name = f"Operation #{ops[0].op_id}" if len(ops) == 1 else f"Deletion #{deletion.id}"
    if failed or deletion.state == "done_with_errors":
        plural = "" if failed == 1 else "s"
        return announce_end(response, f"{name} finished with {failed} failure{plural}", "error")
    return announce_end(response, f"{name} finished", "success")
