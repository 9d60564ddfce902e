"""Password hashing: production parameters by default, cheap ones only when a suite asks."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher, profiles
from flask import Flask

from tests.conftest import TEST_PASSWORD
from wesog_dash import accounts
from wesog_dash.accounts import passwords
from wesog_dash.config import DEFAULTS, ConfigError
from wesog_dash.extensions import db

pytestmark = pytest.mark.dialect  # run again on PostgreSQL (tests/engines.py)


def test_the_default_is_rfc_9106_low_memory_argon2id() -> None:
    assert DEFAULTS["WESOG_PASSWORD_HASH"] == "standard"
    standard = passwords.PROFILES["standard"]
    assert standard == profiles.RFC_9106_LOW_MEMORY
    # The same parameters argon2-cffi chooses by itself: 64 MiB, three passes.
    default = PasswordHasher()
    assert (standard.memory_cost, standard.time_cost) == (default.memory_cost, default.time_cost)
    assert standard.memory_cost == 65536 and standard.time_cost == 3


@pytest.fixture
def app_overrides() -> dict[str, object]:
    """This app uses the production parameters, whatever the suite's environment says."""
    return {"WESOG_PASSWORD_HASH": "standard"}


def test_a_default_app_stores_hashes_with_the_production_parameters(app: Flask) -> None:
    with app.app_context():
        user = accounts.create_user("ana", TEST_PASSWORD, "viewer", actor="cli:test")
        assert user.password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
        assert accounts.authenticate("ana", TEST_PASSWORD) is not None


def test_a_hash_with_old_parameters_is_upgraded_at_the_next_login(app: Flask) -> None:
    with app.app_context():
        user = accounts.create_user("ana", TEST_PASSWORD, "viewer", actor="cli:test")
        cheap = PasswordHasher.from_parameters(profiles.CHEAPEST).hash(TEST_PASSWORD)
        user.password_hash = cheap
        db.session.commit()

        assert accounts.authenticate("ana", "wrong password!") is None
        assert accounts.find_user("ana").password_hash == cheap  # not without the password

        assert accounts.authenticate("ana", TEST_PASSWORD) is not None
        upgraded = accounts.find_user("ana").password_hash
        assert upgraded != cheap and upgraded.startswith("$argon2id$v=19$m=65536,t=3,")


def test_an_unknown_profile_is_named_in_the_error(app: Flask) -> None:
    app.config["WESOG_PASSWORD_HASH"] = "fastest"
    with app.app_context(), pytest.raises(ConfigError, match="WESOG_PASSWORD_HASH='fastest'"):
        accounts.authenticate("ana", TEST_PASSWORD)
