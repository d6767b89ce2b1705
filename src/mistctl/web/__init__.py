"""The web console of `mistctl serve`: server-rendered pages of the fleet, the IP plan and deployments.

`install(app)` adds it to the service's app: the pages under `/ui`, their static files under
`/ui/static`, and the redirect to the login form for pages asked for without a session. Pages read
the same app context (store, design, Mist client pool) as the API and sit behind the same keys.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from mistctl.web import access, actions_apply, actions_deploy, actions_drift, actions_psk, rollback_page, routes
from mistctl.web.render import HERE


def install(app: FastAPI) -> None:
    """Add the console's routes, static files and login redirect to the service's app."""
    app.include_router(access.router)
    app.include_router(routes.router)
    # the forms that change things
    for actions in (actions_apply, actions_deploy, actions_drift, actions_psk, rollback_page):
        app.include_router(actions.router)
    app.mount("/ui/static", StaticFiles(directory=HERE / "static"), name="console-static")
    app.add_exception_handler(access.LoginRequired, access.to_login)
