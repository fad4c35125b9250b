from __future__ import annotations

from fastapi import APIRouter, Request, Response

from canteen.auth import service
from canteen.auth.schemas import (
    LoggedOut,
    OtpRequest,
    OtpRequested,
    OtpVerify,
    RefreshRequest,
    Session,
    StaffLogin,
    TokenPair,
)
from canteen.core.deps import ContainerDep
from canteen.core.deps import Session as DbSession
from canteen.core.responses import Envelope

router = APIRouter(prefix="/auth", tags=["auth"])


def _no_store(response: Response) -> None:
    # Tokens must not be kept by any cache between us and the client (RFC 6749 §5.1).
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"


@router.post("/request-otp", response_model=Envelope[OtpRequested])
async def request_otp(
    body: OtpRequest, request: Request, c: ContainerDep, db: DbSession
) -> Envelope[OtpRequested]:
    return Envelope(data=await service.request_otp(c, db, body.phone, request))


@router.post("/verify-otp", response_model=Envelope[Session])
async def verify_otp(
    body: OtpVerify, request: Request, response: Response, c: ContainerDep, db: DbSession
) -> Envelope[Session]:
    """Customers only: a staff account's phone is refused with 403 `STAFF_USE_PASSWORD`."""
    _no_store(response)
    return Envelope(data=await service.verify_otp(c, db, body.phone, body.otp, request))


@router.post("/staff-login", response_model=Envelope[Session])
async def staff_login(
    body: StaffLogin, request: Request, response: Response, c: ContainerDep, db: DbSession
) -> Envelope[Session]:
    _no_store(response)
    return Envelope(data=await service.staff_login(c, db, body.phone, body.password, request))


@router.post("/refresh", response_model=Envelope[TokenPair])
async def refresh(
    body: RefreshRequest, response: Response, c: ContainerDep, db: DbSession
) -> Envelope[TokenPair]:
    _no_store(response)
    return Envelope(data=await service.refresh(c, db, body.refresh_token))


@router.post("/logout", response_model=Envelope[LoggedOut])
async def logout(body: RefreshRequest, c: ContainerDep) -> Envelope[LoggedOut]:
    await service.logout(c, body.refresh_token)
    return Envelope(data=LoggedOut())
