"""REST API under /api/v1: one module per resource, combined here."""

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1")
