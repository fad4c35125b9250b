"""Where the hosted checkout returns the customer's browser: a small page saying how the
payment went. The signature is checked here too, so a customer who closes the app right
after paying still gets a confirmed order."""

from __future__ import annotations

import html
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from canteen.core.container import Container
from canteen.payments.capture import verify


async def checkout_returned(
    c: Container,
    session: AsyncSession,
    order_id: uuid.UUID,
    gateway_order_id: str | None,
    gateway_payment_id: str | None,
    signature: str | None,
    status: str | None,
    error_description: str | None,
) -> str:
    """The page's HTML, after applying a signed payment."""
    if gateway_order_id and gateway_payment_id and signature:
        order = await verify(c, session, order_id, gateway_order_id, gateway_payment_id, signature)
        title, text = "Payment received", f"Order {order.number} is confirmed."
    elif status == "pending":
        title, text = "Payment pending", "We will confirm your order as soon as the bank does."
    else:
        title = "Payment failed"
        text = (
            error_description or "The payment did not go through."
        ) + " You can try again or pay by cash from the app."
    return (
        f"<!doctype html><html lang=en><meta charset=utf-8><meta name=viewport "
        f"content='width=device-width'><title>{html.escape(title)}</title>"
        f"<main style='font-family:sans-serif;max-width:30em;margin:3em auto'>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(text)}</p>"
        f"<p>You can go back to the Canteen app.</p></main></html>"
    )
