"""The audit log through the API: the page's filters, keyset pages, the chain verdict."""

from __future__ import annotations

from werkzeug.wrappers import Response

from ...accounts.permissions import role_required
from ...audit import queries as audit_queries
from ...audit.queries import AuditFilters
from ...audit.verdict import current_verdict
from ...shapes import schemas
from ...shapes.serialize import verdict_out
from . import bp
from .inputs import AuditQuery
from .reads import answer
from .spec import operation


def filters_of(query: AuditQuery) -> AuditFilters:
    """The audit page's filters from the API's query parameters."""
    return AuditFilters(
        actor=query.actor or "",
        action=query.action or "",
        date_from=query.from_,
        date_to=query.to,
        image_id=query.image_id or "",
        op_id=query.op_id,
        outcome=query.outcome or "",
        q=query.q or "",
    )


@bp.get("/audit/events")
@role_required("viewer")
@operation(
    "Audit events",
    scope="read",
    query=AuditQuery,
    responses={200: schemas.AuditPage},
    problems=(400,),
    tag="audit",
)
def audit_events(query: AuditQuery) -> Response:
    """Audit events newest first, with the /audit page's filters, and the chain verdict."""
    found = audit_queries.page(
        filters_of(query), before=query.before, after=query.after, size=query.limit
    )
    page = schemas.AuditPage(
        items=[schemas.AuditEvent.model_validate(event) for event in found.events],
        newer_after=found.newer_after,
        older_before=found.older_before,
        verdict=verdict_out(current_verdict()),
    )
    return answer(page)


@bp.get("/audit/verdict")
@role_required("viewer")
@operation("Chain verdict", scope="read", responses={200: schemas.Verdict}, tag="audit")
def audit_verdict() -> Response:
    """Whether the audit log's hash chain is intact (as /audit says; cached, incremental)."""
    return answer(verdict_out(current_verdict()))
