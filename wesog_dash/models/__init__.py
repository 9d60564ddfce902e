"""The database models, one module per concern."""

from . import search
from .accounts import (
    ROLES,
    TOKEN_SCOPES,
    ApiToken,
    LoginFailure,
    SetupToken,
    User,
    UserSession,
    role_at_least,
)
from .alerts import ALERT_STATES, Alert
from .audit import AuditEvent, AuditHead
from .deletions import (
    DELETION_STATES,
    FINAL_DELETION_STATES,
    ITEM_OUTCOMES,
    DeletionItem,
    DeletionRequest,
)
from .idempotency import IdempotencyKey
from .lease import Lease
from .metrics import metric_days, metric_hours, metric_minutes
from .operations import FINAL_OP_STATES, OP_ORIGINS, OP_STATES, Operation, OperationSample
from .policies import POLICY_STATES, RUN_KINDS, RUN_OUTCOMES, PolicyRun, RetentionPolicy
from .selections import SELECTION_STATES, IdSelection, IdSelectionItem
from .snapshots import ImageSnapshot
from .types import UTCDateTime, day_start, parse_day, utcnow

__all__ = [
    "ALERT_STATES",
    "DELETION_STATES",
    "FINAL_DELETION_STATES",
    "FINAL_OP_STATES",
    "ITEM_OUTCOMES",
    "OP_ORIGINS",
    "OP_STATES",
    "POLICY_STATES",
    "ROLES",
    "RUN_KINDS",
    "RUN_OUTCOMES",
    "SELECTION_STATES",
    "TOKEN_SCOPES",
    "Alert",
    "ApiToken",
    "AuditEvent",
    "AuditHead",
    "DeletionItem",
    "DeletionRequest",
    "IdSelection",
    "IdSelectionItem",
    "IdempotencyKey",
    "ImageSnapshot",
    "Lease",
    "LoginFailure",
    "Operation",
    "OperationSample",
    "PolicyRun",
    "RetentionPolicy",
    "SetupToken",
    "UTCDateTime",
    "User",
    "UserSession",
    "day_start",
    "metric_days",
    "metric_hours",
    "metric_minutes",
    "parse_day",
    "role_at_least",
    "search",
    "utcnow",
]
