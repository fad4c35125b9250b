"""Payment and refund statuses are enums (issue 15), with the wire values they always had,
and payments compares them as enums, never as bare strings."""

from __future__ import annotations

import ast
import typing
from pathlib import Path

import canteen.payments
from canteen.orders.schemas import PaymentInfo
from canteen.payments.models import FINAL_REFUND_STATES, PaymentState, RefundState

PAYMENTS = Path(canteen.payments.__file__).parent
STATUS_WORDS = {s.value for s in PaymentState} | {s.value for s in RefundState}
# The hosted checkout's return carries the gateway's own word (`status=pending`), not ours.
GATEWAY_WORDS = {"callback.py"}


def test_wire_values_are_unchanged():
    assert [s.value for s in PaymentState] == [
        "created",
        "captured",
        "failed",
        "refunded",
        "abandoned",
    ]
    assert [s.value for s in RefundState] == ["requested", "pending", "processed", "failed"]
    assert {"processed", "failed"} == FINAL_REFUND_STATES


def test_the_customer_sees_every_payment_state_but_abandoned():
    # An abandoned payment (switched to cash) is not shown at all (payments.port).
    shown = set(typing.get_args(PaymentInfo.model_fields["status"].annotation))
    assert shown == {s.value for s in PaymentState} - {PaymentState.abandoned}


def test_payments_compares_statuses_as_enums():
    bare = []
    for path in sorted(p for p in PAYMENTS.glob("*.py") if p.name not in GATEWAY_WORDS):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Compare):
                continue
            operands = [node.left, *node.comparators]
            for operand in operands:
                values = operand.elts if isinstance(operand, ast.Tuple | ast.Set) else [operand]
                for v in values:
                    if isinstance(v, ast.Constant) and v.value in STATUS_WORDS:
                        bare.append(f"{path.name}:{node.lineno} {v.value!r}")
    assert not bare, f"compare with PaymentState/RefundState: {bare}"
