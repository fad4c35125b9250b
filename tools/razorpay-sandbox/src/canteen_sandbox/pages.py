"""The hosted checkout for testers: its HTML pages and where it sends the payer back."""

from __future__ import annotations

import html
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from fastapi.responses import HTMLResponse

from canteen_sandbox.entities import UNSAFE_SCHEMES, JsonDict, invalid


def safe_callback(url: str | None) -> str | None:
    """Validate a callback URL (http(s) or an app deep link); raises SandboxError."""
    if not url:
        return None
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if not scheme or scheme in UNSAFE_SCHEMES or (scheme in ("http", "https") and not parts.netloc):
        raise invalid("callback_url must be an absolute http(s) or app URL", "callback_url")
    return url


def with_query(url: str, params: list[tuple[str, str]]) -> str:
    parts = urlsplit(url)
    query = urlencode([*parse_qsl(parts.query, keep_blank_values=True), *params])
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def redirect_params(result: JsonDict) -> list[tuple[str, str]]:
    if "error" in result:
        error = result["error"]
        return [
            ("error[code]", error["code"]),
            ("error[description]", error["description"]),
            ("error[source]", error["source"]),
            ("error[step]", error["step"]),
            ("error[reason]", error["reason"]),
            ("error[metadata][order_id]", error["metadata"]["order_id"]),
            ("error[metadata][payment_id]", error["metadata"]["payment_id"]),
        ]
    if result.get("status") == "pending":
        return [("status", "pending"), ("razorpay_order_id", result["razorpay_order_id"])]
    return [
        ("razorpay_payment_id", result["razorpay_payment_id"]),
        ("razorpay_order_id", result["razorpay_order_id"]),
        ("razorpay_signature", result["razorpay_signature"]),
    ]


# -- HTML (hosted checkout for testers) ---------------------------------------------------

_STYLE = """
body{font-family:system-ui,sans-serif;margin:0;background:#f4f6fb;color:#111}
main{max-width:28rem;margin:2rem auto;padding:1.5rem;background:#fff;border-radius:8px}
.note{color:#444}dl{display:grid;grid-template-columns:auto 1fr;gap:.25rem 1rem}
dt{font-weight:600}dd{margin:0;word-break:break-all}
fieldset{border:0;padding:0;margin:1.5rem 0 0;display:grid;gap:.75rem}
legend{font-weight:600;margin-bottom:.5rem}
button{font:inherit;font-size:1.1rem;padding:.8rem;border-radius:6px;border:2px solid #1b3a8a;
background:#fff;color:#1b3a8a;cursor:pointer}
button[value=success]{background:#1b3a8a;color:#fff}
button:focus-visible{outline:3px solid #f5a623;outline-offset:2px}
"""


def page(title: str, content: str, status: int = 200) -> HTMLResponse:
    document = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><main>{content}</main></body></html>"
    )
    return HTMLResponse(document, status_code=status)


def money(amount: int, currency: str) -> str:
    major = f"{amount // 100}.{amount % 100:02d}"
    return f"₹{major}" if currency == "INR" else f"{major} {currency}"


def checkout_page(order: JsonDict, callback_url: str | None) -> HTMLResponse:
    e = html.escape
    details = (
        "<dl>"
        f"<dt>Amount</dt><dd>{e(money(order['amount'], order['currency']))}</dd>"
        f"<dt>Receipt</dt><dd>{e(order['receipt'] or '—')}</dd>"
        f"<dt>Order</dt><dd>{e(order['id'])}</dd>"
        "</dl>"
    )
    intro = (
        "<h1>Razorpay sandbox checkout</h1>"
        '<p class="note">A local test stand-in for Razorpay. No money moves.</p>'
    )
    if order["status"] == "paid":
        return page(
            "Order already paid",
            f'{intro}{details}<p role="status">This order has already been paid.</p>',
        )
    hidden = (
        f'<input type="hidden" name="callback_url" value="{e(callback_url)}">'
        if callback_url
        else ""
    )
    # Relative action: works however the tester reached this page (emulator, LAN IP).
    form = (
        f'<form method="post" action="{e(quote(order["id"], safe=""))}/complete">{hidden}'
        "<fieldset><legend>Choose how this payment ends</legend>"
        '<button type="submit" name="outcome" value="success">Pay successfully</button>'
        '<button type="submit" name="outcome" value="failure">Fail payment</button>'
        '<button type="submit" name="outcome" value="pending">Leave pending</button>'
        "</fieldset></form>"
    )
    return page(f"Pay {money(order['amount'], order['currency'])}", intro + details + form)


def result_page(result: JsonDict) -> HTMLResponse:
    rows = "".join(
        f"<dt>{html.escape(k)}</dt><dd>{html.escape(v)}</dd>" for k, v in redirect_params(result)
    )
    return page(
        "Payment result",
        f'<h1>Payment result</h1><p role="status">No callback URL was given.</p><dl>{rows}</dl>',
    )


# -- the app --------------------------------------------------------------------------------
