"""Views of the deletions area (filled in by its issue)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("deletions", __name__)
