from __future__ import annotations

from pydantic import BaseModel, Field

from canteen.users.schemas import UserOut


class OtpRequest(BaseModel):
    phone: str = Field(min_length=4, max_length=32, examples=["+919876543210"])


class OtpRequested(BaseModel):
    expires_in: int
    resend_after: int


class OtpVerify(BaseModel):
    phone: str = Field(min_length=4, max_length=32)
    otp: str = Field(pattern=r"^\d{6}$")


class StaffLogin(BaseModel):
    phone: str = Field(min_length=4, max_length=32)
    password: str = Field(min_length=1, max_length=256)


class RefreshRequest(BaseModel):
    refresh_token: str = Field(min_length=10, max_length=256)


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "bearer"
    expires_in: int
    refresh_expires_in: int


class Session(TokenPair):
    user: UserOut


class LoggedOut(BaseModel):
    logged_out: bool = True
