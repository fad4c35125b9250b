"""Phone numbers in E.164, parsed with the canteen's default region (India).

Every phone we accept must be able to receive an SMS: sign-in codes and order texts go to
it. So a number must be a valid *mobile* number for its region; a landline (`5123456789`
is a valid Indian fixed-line number) is refused before any code is sent or limit spent.
"""

from __future__ import annotations

import phonenumbers
from phonenumbers import PhoneNumberType

from canteen.core.errors import ValidationFailed, field_error

# Some regions (the US, for one) do not tell mobile and fixed-line numbers apart.
_TEXTABLE = {PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE}


def normalise_phone(raw: str, region: str, field: str = "phone") -> str:
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise _invalid(field, "Not a phone number") from exc
    if not phonenumbers.is_valid_number(number):
        raise _invalid(field, "Not a valid phone number")
    if phonenumbers.number_type(number) not in _TEXTABLE:
        raise _invalid(field, "Not a mobile number; use a number that can receive SMS")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(
        "The request is not valid",
        details=[field_error(field, "invalid_phone", message)],
    )
