"""Accounts: users and their passwords and roles, API tokens, the first-run setup, and who may
do what (permissions).

Owns the `users`, `api_tokens` and `setup_tokens` tables. May import `audit`, `models`,
`extensions` and Flask(-Login); never `deletions`, `operations` or views.
"""

from .users import (
    MIN_PASSWORD_LENGTH,
    AccountError,
    add_user,
    authenticate,
    create_user,
    disable_user,
    find_user,
    get_user,
    list_users,
    record_failed_login,
    record_login,
    set_password,
    set_role,
    user_by_id,
    user_count,
    validate_new_user,
)

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "AccountError",
    "add_user",
    "authenticate",
    "create_user",
    "disable_user",
    "find_user",
    "get_user",
    "list_users",
    "record_failed_login",
    "record_login",
    "set_password",
    "set_role",
    "user_by_id",
    "user_count",
    "validate_new_user",
]
