"""Phone numbers in E.164, parsed with the canteen's default region (India)."""

from __future__ import annotations

import phonenumbers

from canteen.core.errors import ValidationFailed


def normalise_phone(raw: str, region: str, field: str = "phone") -> str:
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise _invalid(field, "Not a phone number") from exc
    if not phonenumbers.is_valid_number(number):
        raise _invalid(field, "Not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(
        "The request is not valid",
        details=[{"field": field, "issue": "invalid_phone", "message": message}],
    )
