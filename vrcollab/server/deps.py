"""The dependencies routes declare: the services container, the caller, roles, rate limits.

Every route reaches shared state through these (never ``request.app.state`` directly):
``ServicesDep`` (:class:`vrcollab.server.services.Services`), ``StoreDep``, ``SettingsDep``,
``HubDep`` and ``CurrentUser`` (the authenticated caller, 401 otherwise).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.security import HTTPBearer

from vrcollab.errors import AuthError, NotFoundError
from vrcollab.server.auth import check_csrf, credential_from, require_role
from vrcollab.server.hub import RoomHub
from vrcollab.server.services import Services
from vrcollab.settings import Settings
from vrcollab.store import Store
from vrcollab.store.base import User

#: The OpenAPI ``bearer`` security scheme (``Authorization: Bearer <token>``); the token may also
#: come as ``?token=`` or the browser's session cookie, so the scheme itself never refuses.
BEARER = HTTPBearer(scheme_name="bearer", auto_error=False,
                    description="a member token (``Authorization: Bearer <token>``); browsers "
                    "use the session cookie instead")


def services_of(app: FastAPI) -> Services:
    """The app's services container (for shells without a request, e.g. the websocket)."""
    services: Services = app.state.services
    return services


def get_services(request: Request) -> Services:
    """The app's services container (dependency)."""
    return services_of(request.app)


def get_store(request: Request) -> Store:
    """The app's store (dependency)."""
    return get_services(request).store


def get_settings(request: Request) -> Settings:
    """The app's settings (dependency)."""
    return get_services(request).settings


def get_hub(request: Request) -> RoomHub:
    """The app's live rooms (dependency)."""
    return get_services(request).hub


def current_user(request: Request) -> User:
    """The caller: a bearer token (``Authorization: Bearer`` or ``?token=``) or the browser's
    session cookie; 401 otherwise. A cookie-authenticated request that changes state must pass
    the CSRF check (:func:`vrcollab.server.auth.check_csrf`, 403 ``csrf``)."""
    token, via_cookie = credential_from(request.headers, request.query_params)
    if not token:
        raise AuthError("missing bearer token")
    if via_cookie:
        check_csrf(request.method, request.headers, get_settings(request).allowed_origins)
    return get_store(request).resolve_token(token, time.time())


def _authenticated(request: Request, _bearer: Annotated[object, Depends(BEARER)]) -> User:
    return current_user(request)


CurrentUser = Annotated[User, Depends(_authenticated)]
StoreDep = Annotated[Store, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
ServicesDep = Annotated[Services, Depends(get_services)]
HubDep = Annotated[RoomHub, Depends(get_hub)]


async def authorize(request: Request, project_id: str, minimum: str) -> User:
    """The caller, with at least ``minimum`` in the project (off the event loop); 404 for
    non-members, like a missing id."""
    store = get_store(request)

    def check() -> User:
        user = current_user(request)
        require_role(store, project_id, user, minimum)
        return user

    return await asyncio.to_thread(check)


def _address(request: Request) -> str:
    return request.client.host if request.client else "?"


@contextmanager
def guarded(request: Request, bucket: str) -> Iterator[None]:
    """Refuse while rate-limited; count an AuthError or NotFoundError as a failure."""
    lim, addr = get_services(request).auth_limiter, _address(request)
    lim.check(bucket, addr, time.time())
    try:
        yield
    except (AuthError, NotFoundError):
        lim.fail(bucket, addr, time.time())
        raise


def limit_attempts(request: Request, bucket: str) -> None:
    """Only the check of :func:`guarded` (for callers that count failures themselves)."""
    get_services(request).auth_limiter.check(bucket, _address(request), time.time())
