"""Server-rendered pages (Jinja2), combined here."""

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
