"""Checkout: the options the settings allow, one SDK `Checkout` per attempt, and UPI.

A `canteen_client.Checkout` owns one idempotency key. The app keeps the same one while
the order it would send stays the same, so "Try again" after a timeout or a 5xx can
never create a second order (the server answers the repeated key with the first order).
A different cart or choice (e.g. after removing unavailable items) is a new attempt.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from canteen_app.state.cart import Cart
from canteen_app.state.menu import load_windows
from canteen_client import (
    CanteenClient,
    Checkout,
    CheckoutResult,
    ConflictFailure,
    KitchenWindows,
    Order,
    OrderAction,
    PublicConfig,
)

ORDER_TYPES = {"pickup": "Pickup at the counter", "delivery": "Delivery"}
PAYMENT_METHODS = {"upi": "UPI", "cash": "Cash"}


@dataclass(frozen=True)
class CheckoutForm:
    order_type: str = "pickup"
    payment_method: str = "upi"
    delivery_address: str = ""
    instructions: str = ""
    time_slot: str | None = None
    pickup_window: str | None = None  # "13:15"; None: the earliest window with room


def order_types(config: PublicConfig | None) -> list[str]:
    if config is None or config.delivery_enabled:
        return ["pickup", "delivery"]
    return ["pickup"]


def payment_methods(config: PublicConfig | None) -> list[str]:
    if config is None:
        return ["upi", "cash"]
    methods = []
    if config.upi_payment_enabled:
        methods.append("upi")
    if config.cash_payment_enabled:
        methods.append("cash")
    return methods


def fit_to_config(form: CheckoutForm, config: PublicConfig | None) -> CheckoutForm:
    """Move the form off choices the settings no longer allow."""
    types, methods = order_types(config), payment_methods(config)
    if form.order_type not in types:
        form = replace(form, order_type=types[0])
    if methods and form.payment_method not in methods:
        form = replace(form, payment_method=methods[0])
    return form


def validate(form: CheckoutForm, config: PublicConfig | None, cart: Cart) -> dict[str, str]:
    """Field errors found before anything is sent (the server checks again)."""
    errors: dict[str, str] = {}
    if cart.is_empty:
        errors["items"] = "Your cart is empty"
    if form.order_type not in order_types(config):
        errors["order_type"] = "Delivery is not available right now"
    if form.payment_method not in payment_methods(config):
        errors["payment_method"] = "This payment method is not available right now"
    if form.order_type == "delivery" and len(form.delivery_address.strip()) < 5:
        errors["delivery_address"] = "Enter where to deliver (hostel, room, building)"
    if len(form.delivery_address) > 500:
        errors["delivery_address"] = "At most 500 characters"
    if len(form.instructions) > 500:
        errors["instructions"] = "At most 500 characters"
    return errors


def totals(cart: Cart, form: CheckoutForm, config: PublicConfig | None) -> tuple[int, int, int]:
    """(subtotal, delivery fee, total) as the app expects them; the server's are final."""
    fee = config.delivery_fee if (config and form.order_type == "delivery") else 0
    return cart.subtotal, fee, cart.subtotal + fee


class CheckoutState:
    def __init__(self, api: CanteenClient, cart: Cart) -> None:
        self.api = api
        self.cart = cart
        self.config: PublicConfig | None = None  # kept current by AppState (delivery fee)
        self.form = CheckoutForm()
        self.attempt: Checkout | None = None
        self.attempts_made = 0  # attempts created (diagnostics, tests)
        self.windows: KitchenWindows | None = None  # the chosen slot's windows with room

    async def load_windows(self, slot: str | None) -> None:
        """The slot's windows the cart fits in, for the picker; a picked window no longer offered is
        dropped (the earliest with room is taken instead)."""
        cart = [(line.menu_item_id, line.quantity) for line in self.cart.sdk_lines()]
        self.windows = await load_windows(self.api, slot, cart)
        offered = {w.window for w in self.windows.windows} if self.windows else set()
        if self.form.pickup_window not in offered:
            self.form = replace(self.form, pickup_window=None)

    def _body(self) -> dict[str, Any]:
        f = self.form
        draft = self.api.orders.checkout(
            self.cart.sdk_lines(),
            order_type=f.order_type,
            payment_method=f.payment_method,
            time_slot=f.time_slot,
            pickup_window=f.pickup_window,
            delivery_address=f.delivery_address.strip() if f.order_type == "delivery" else None,
            instructions=f.instructions.strip() or None,
            # What the checkout shows: the server refuses (PRICE_CHANGED) rather than
            # charge a different total.
            expected_total=totals(self.cart, f, self.config)[2],
        )
        return draft.body

    def current_attempt(self) -> Checkout:
        """The attempt for what the cart and form say now (the same one while unchanged)."""
        body = self._body()
        if self.attempt is None or self.attempt.body != body:
            self.attempt = Checkout(self.api, body)
            self.attempts_made += 1
        return self.attempt

    async def place(self) -> Order:
        """Place the order. On success the cart is emptied and the attempt is done.
        Raises the SDK's failures (map them with `errors.action_for`)."""
        attempt = self.current_attempt()
        order = await attempt.place()
        self.attempt = None
        await self.cart.clear()
        self.form = replace(self.form, instructions="")
        return order

    async def accept_prices(self, failure: ConflictFailure) -> None:
        """After PRICE_CHANGED: the cart takes the server's prices (the student confirmed
        them, or goes back to the cart to see them). The next place() is a new attempt
        with a new key; the refused one kept nothing on the server."""
        await self.cart.apply_price_changes(
            [(c.menu_item_id, c.old_price, c.new_price) for c in failure.price_changes]
        )

    async def remove_unavailable(self, failure: ConflictFailure) -> list[str]:
        """ "Remove and continue": drop the refused lines (a new attempt follows)."""
        ids = [i.menu_item_id for i in failure.unavailable_items]
        removed = await self.cart.remove(ids)
        return [line.name for line in removed]


# ---- UPI: the hosted checkout and verification ----------------------------------------


@dataclass(frozen=True)
class PaymentReturn:
    """What the gateway's checkout handed back (a deep link, or the sandbox's answer)."""

    order_id: str | None
    status: str  # success | failure | pending
    result: CheckoutResult | None = None
    error: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


def parse_payment_return(query: Mapping[str, str]) -> PaymentReturn:
    """Read `?order_id=…&razorpay_payment_id=…&razorpay_order_id=…&razorpay_signature=…`
    (or `error[description]=…`, or `status=pending`), as the checkout's callback sends."""
    order_id = query.get("order_id") or None
    pid, oid, sig = (
        query.get("razorpay_payment_id"),
        query.get("razorpay_order_id"),
        query.get("razorpay_signature"),
    )
    if pid and oid and sig:
        return PaymentReturn(order_id, "success", CheckoutResult(oid, pid, sig))
    if query.get("status") == "pending":
        return PaymentReturn(order_id, "pending")
    error = (
        query.get("error[description]") or query.get("error") or "The payment did not go through"
    )
    return PaymentReturn(order_id, "failure", error=error)


class PaymentState:
    """UPI for one order: open the checkout, then verify (or check) the result."""

    def __init__(self, api: CanteenClient) -> None:
        self.api = api

    @staticmethod
    def checkout_url(order: Order) -> str | None:
        return order.payment.checkout_url if order.payment else None

    async def verify(self, order_id: str, result: CheckoutResult) -> Order:
        """The app's verify (design §8.1 step 10); the SDK retries it 3 times."""
        return await self.api.payments.verify_result(order_id, result)

    async def check(self, order_id: str) -> Order:
        """After the customer comes back from the checkout: what does the server say?
        (The checkout's callback and the webhook verify on the server side too.)"""
        return await self.api.orders.order(order_id)

    async def retry(self, order_id: str) -> Order:
        return await self.api.payments.retry(order_id)

    async def switch_to_cash(self, order_id: str) -> Order:
        return await self.api.payments.switch_to_cash(order_id)


def awaiting_payment(order: Order) -> bool:
    """The order still waits for a UPI payment: the server lets it be retried then
    (its `actions`; the app keeps no copy of the rule)."""
    return order.can(OrderAction.retry_payment)
