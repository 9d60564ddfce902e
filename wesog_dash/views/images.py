"""Views of the images area (filled in by its issue)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("images", __name__)
