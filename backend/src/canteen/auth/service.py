"""Sign-in flows: customer OTP, staff password, refresh rotation and logout."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection

from canteen.auth import otp, tokens
from canteen.auth.errors import AccountDisabled, StaffUsePassword
from canteen.auth.schemas import OtpRequested, Session, TokenPair
from canteen.core.container import Container
from canteen.core.db import after_commit
from canteen.core.direct_flush import flush_changes
from canteen.core.errors import AppError, InvalidCredentials, InvalidToken, field_error
from canteen.core.phones import normalise_phone
from canteen.core.ratelimit import Limit, client_ip
from canteen.core.security import verify_password_async
from canteen.users.deps import load_account_by_phone
from canteen.users.models import Role, User
from canteen.users.schemas import UserOut
from canteen.users.service import add_customer


async def request_otp(
    c: Container, session: AsyncSession, raw_phone: str, conn: HTTPConnection
) -> OtpRequested:
    phone = normalise_phone(raw_phone, c.settings.phone_region)
    issued = await otp.issue_otp(c, phone, client_ip(conn, c.settings.trust_forwarded_for), conn)
    minutes = max(1, issued.expires_in // 60)
    body = f"{issued.code} is your Canteen sign-in code. It expires in {minutes} minutes."

    async def send() -> None:
        await c.jobs.enqueue("sms.send", to=phone, body=body)

    # The SMS leaves only after the request has succeeded (design §4.1: a job, not inline).
    after_commit(session, send)
    # Same answer whether or not the number has an account (ASVS 6.3.8).
    return OtpRequested(expires_in=issued.expires_in, resend_after=issued.resend_after)


async def verify_otp(
    c: Container, session: AsyncSession, raw_phone: str, code: str, conn: HTTPConnection
) -> Session:
    phone = normalise_phone(raw_phone, c.settings.phone_region)
    await _throttle_attempts(c, conn)
    await otp.consume_otp(c, phone, code)
    user = await load_account_by_phone(session, phone)
    if user is None:
        # A first sign-in: the account is the request's one write (users.add_customer).
        user = await add_customer(session, phone, signed_in_at=c.clock.now())
        return await _session_for(c, user)
    # Only after the code is proven, so the answer tells nobody but the phone's holder
    # that the number is a staff account (request-otp answers the same for every number).
    if user.role != Role.customer:
        raise StaffUsePassword(details=[field_error("phone", "staff_account")])
    if not user.is_active:
        raise AccountDisabled()
    user.last_login_at = c.clock.now()
    await flush_changes(session)  # a returning student's sign-in: one direct UPDATE
    return await _session_for(c, user)


async def staff_login(
    c: Container, session: AsyncSession, raw_phone: str, password: str, conn: HTTPConnection
) -> Session:
    await _throttle_attempts(c, conn)
    try:
        phone = normalise_phone(raw_phone, c.settings.phone_region)
    except AppError:
        phone = raw_phone
    user = await load_account_by_phone(session, phone)
    # verify_password runs argon2 even when there is no user, so timing does not
    # reveal which phone numbers have staff accounts.
    password_ok = await verify_password_async(user.password_hash if user else None, password)
    if user is None or not password_ok or user.role == Role.customer:
        raise InvalidCredentials()
    if not user.is_active:
        raise AccountDisabled()
    user.last_login_at = c.clock.now()
    await flush_changes(session)  # written as a student's sign-in is
    return await _session_for(c, user)


async def refresh(c: Container, session: AsyncSession, refresh_token: str) -> TokenPair:
    record = await tokens.rotate_refresh(c, refresh_token)
    user = await session.get(User, record.user_id)
    if user is None or not user.is_active:
        raise InvalidToken("This account can no longer sign in")
    # A session keeps the role it signed in with. Records from before roles were stored
    # pass only for customers, so no staff session outlives that change unseen.
    if (record.role or Role.customer) != user.role:
        raise InvalidToken(
            "This account's role has changed; sign in again",
            details=[{"reason": "role_changed"}],
        )
    return await _pair_for(c, user, record.family_id)


async def logout(c: Container, refresh_token: str) -> None:
    await tokens.revoke_refresh(c, refresh_token)


async def _throttle_attempts(c: Container, conn: HTTPConnection) -> None:
    await c.ratelimiter.hit(
        Limit("auth-ip", c.settings.auth_attempts_per_minute_per_ip, 60),
        client_ip(conn, c.settings.trust_forwarded_for),
        conn,
        "Too many sign-in attempts from this network; try again shortly",
    )


async def _pair_for(c: Container, user: User, family_id: str | None = None) -> TokenPair:
    s = c.settings
    access = c.tokens.encode_access(user.id, user.role, c.clock.now(), s.access_token_ttl_seconds)
    refresh_token = await tokens.mint_refresh(c, user.id, user.role, family_id)
    return TokenPair(
        access_token=access,
        refresh_token=refresh_token,
        expires_in=s.access_token_ttl_seconds,
        refresh_expires_in=s.refresh_token_ttl_seconds,
    )


async def _session_for(c: Container, user: User) -> Session:
    pair = await _pair_for(c, user)
    return Session(**pair.model_dump(), user=UserOut.model_validate(user))
