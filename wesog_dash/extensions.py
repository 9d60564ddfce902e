"""Flask extensions, created unbound and initialised in create_app."""

from __future__ import annotations

from typing import ClassVar

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from htmx_flask import Htmx
from sqlalchemy import MetaData, Table
from sqlalchemy.orm import DeclarativeBase

# Named constraints so that Alembic (batch mode on SQLite) can alter them later.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Model(DeclarativeBase):
    """The base of every table: typed mappings, and constraint names Alembic can alter."""

    metadata = MetaData(naming_convention=NAMING)
    __table__: ClassVar[Table]  # every table of ours is a plain Table, not any FromClause


# Tables subclass `Model` itself rather than `db.Model` (Flask-SQLAlchemy's subclass of it,
# which type checkers cannot see through); both share one metadata and one session.
db = SQLAlchemy(model_class=Model)
migrate = Migrate()
htmx = Htmx()
csrf = CSRFProtect()
login_manager = LoginManager()
