"""The Wesog API client: typed results and typed errors over `requests`."""

from .cancelling import CancelResult
from .client import WesogClient
from .errors import (
    WesogAuthError,
    WesogBadResponse,
    WesogError,
    WesogNotFound,
    WesogOutcomeUnknown,
    WesogRateLimited,
    WesogUnavailable,
    WesogValidationError,
)
from .ids import MAX_IMAGE_ID_LENGTH, image_id_problem
from .operation import OperationFields, OperationSnapshot, OpError
from .types import Image, SearchPage

__all__ = [
    "MAX_IMAGE_ID_LENGTH",
    "CancelResult",
    "Image",
    "OpError",
    "OperationFields",
    "OperationSnapshot",
    "SearchPage",
    "WesogAuthError",
    "WesogBadResponse",
    "WesogClient",
    "WesogError",
    "WesogNotFound",
    "WesogOutcomeUnknown",
    "WesogRateLimited",
    "WesogUnavailable",
    "WesogValidationError",
    "image_id_problem",
]
