"""Views of the operations area (filled in by its issue)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("ops", __name__)
