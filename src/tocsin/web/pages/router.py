"""Server-rendered pages (Jinja2), combined here; each concern lives in its own module."""

from fastapi import APIRouter

from tocsin.web.pages import auth, dashboard, messages, people, profile, services, teams

router = APIRouter(include_in_schema=False)
for _module in (auth, dashboard, people, services, teams, profile, messages):
    router.include_router(_module.router)
