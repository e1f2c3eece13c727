"""`GET /oauth/grants` and `DELETE /oauth/grants/{grant_id}`: who has let which app act as them, and the
way to take it back. Behind the bearer check: a key (or an OAuth token) sees its owner's grants; the
admin key sees and revokes every client's."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from imagegen.domain.caller import Caller
from imagegen.domain.oauth import Grant
from imagegen.services.oauth import OAuthService


def grant_document(grant: Grant) -> dict[str, Any]:
    return grant.model_dump(
        mode="json",
        include={
            "grant_id",
            "owner",
            "client_id",
            "client_name",
            "scopes",
            "created_at",
            "refreshed_at",
            "expires_at",
            "revoked_at",
            "revoked_because",
        },
    )


class GrantEndpoints:
    def __init__(self, oauth: OAuthService) -> None:
        self._oauth = oauth

    async def list(self, request: Request) -> Response:
        grants = await self._oauth.grants(_caller(request))
        return JSONResponse({"grants": [grant_document(grant) for grant in grants]})

    async def revoke(self, request: Request) -> Response:
        grant = await self._oauth.revoke_grant(_caller(request), request.path_params["grant_id"])
        if grant is None:
            return JSONResponse(
                {"error": "not_found", "error_description": "No such grant for this client."}, status_code=404
            )
        return JSONResponse({"grant": grant_document(grant)})


def _caller(request: Request) -> Caller:
    caller = getattr(request.state, "caller", None)
    if not isinstance(
        caller, Caller
    ):  # the bearer check guards these paths; reaching here without it is a wiring bug
        raise RuntimeError("grant endpoints must sit behind BearerAuthMiddleware")
    return caller
