"""One error class per code (issue 15): every `AppError` the API can answer with is a class
that names its code, status and default message, and code raises those classes instead of
passing `code=` to a constructor; field problems are built with `field_error`.

The classes are found by importing every module of the package; the raises and the
`details` entries by reading the source (AST), so a new inline code fails here.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
from collections import defaultdict
from pathlib import Path

import pytest

import canteen
from canteen.core.errors import AppError, field_error

SRC = Path(canteen.__file__).parent
# Files still being moved to one class per code. Empty since issue 15 finished; kept so a
# future move can list a file while it is under way (the allow-list test fails on a stale one).
NOT_YET: tuple[str, ...] = ()
# Not importable on their own (run as programs or by Alembic).
_SKIP_IMPORT = ("__main__", "canteen.migrations")


def _modules() -> list[str]:
    names = [
        m.name
        for m in pkgutil.walk_packages([str(SRC)], prefix="canteen.")
        if not any(part in m.name for part in _SKIP_IMPORT)
    ]
    for name in names:
        importlib.import_module(name)
    return names


def _error_classes() -> list[type[AppError]]:
    _modules()
    found: list[type[AppError]] = []
    todo = [AppError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return [c for c in found if c.__module__.startswith("canteen.")]


def _relative(path: Path) -> str:
    return path.relative_to(SRC).as_posix()


def _sources() -> list[tuple[str, ast.Module]]:
    return [(_relative(p), ast.parse(p.read_text(), str(p))) for p in sorted(SRC.rglob("*.py"))]


def _allowed(path: str) -> bool:
    return path.startswith(NOT_YET)


def _inline_codes(error_names: set[str]) -> list[tuple[str, int, str]]:
    """Calls of an error class (or AppError) that pass `code=` or `status_code=`."""
    found = []
    for path, tree in _sources():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
            if name not in error_names:
                continue
            for kw in node.keywords:
                if kw.arg in ("code", "status_code"):
                    found.append((path, node.lineno, f"{name}({kw.arg}=...)"))
    return found


def _hand_built_fields() -> list[tuple[str, int]]:
    """Dict literals shaped like a field problem ({"field", "issue", ...}) not made by
    field_error. (PRICE_CHANGED's entries name a field and a `reason`: another shape.)"""
    found = []
    for path, tree in _sources():
        helper = {
            id(n)
            for f in ast.walk(tree)
            if isinstance(f, ast.FunctionDef) and f.name == "field_error"
            for n in ast.walk(f)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Dict) and id(node) not in helper:
                keys = {k.value for k in node.keys if isinstance(k, ast.Constant)}
                if {"field", "issue"} <= keys:
                    found.append((path, node.lineno))
    return found


def test_every_error_class_has_a_status_a_message_and_its_own_code():
    classes = _error_classes()
    assert len(classes) > 20  # the walk did find the domains' classes
    by_code: dict[str, list[type[AppError]]] = defaultdict(list)
    for cls in classes:
        assert 400 <= cls.status_code <= 599, cls
        assert isinstance(cls.message, str) and cls.message.strip(), cls
        assert isinstance(cls.code, str) and cls.code.isupper(), cls
        by_code[cls.code].append(cls)
    for code, holders in by_code.items():
        # A code is shared only along one line of inheritance (a base and its subclasses).
        root = min(holders, key=lambda c: len(c.__mro__))
        strays = [c for c in holders if not issubclass(c, root)]
        assert not strays, f"{code} is defined by unrelated classes: {holders}"


def test_the_domains_own_their_codes():
    codes = {cls.code: cls for cls in _error_classes()}
    for code, module in [
        ("INVALID_OTP", "canteen.auth.errors"),
        ("OTP_EXPIRED", "canteen.auth.errors"),
        ("OTP_ATTEMPTS_EXCEEDED", "canteen.auth.errors"),
        ("ACCOUNT_DISABLED", "canteen.auth.errors"),
        ("STAFF_USE_PASSWORD", "canteen.auth.errors"),
        ("PHONE_TAKEN", "canteen.users.errors"),
        ("CANNOT_CHANGE_OWN_ACCOUNT", "canteen.users.errors"),
        ("CATEGORY_NOT_EMPTY", "canteen.menu.errors"),
        ("TIME_SLOT_CODE_TAKEN", "canteen.menu.errors"),
        ("TIME_SLOT_IN_USE", "canteen.menu.errors"),
        ("RESTAURANT_CLOSED", "canteen.orders.errors"),
        ("ORDERING_PAUSED", "canteen.orders.errors"),
        ("DELIVERY_DISABLED", "canteen.orders.errors"),
        # Placement and switch-to-cash both refuse it; orders imports nothing of payments.
        ("PAYMENT_METHOD_DISABLED", "canteen.orders.errors"),
    ]:
        assert codes[code].__module__ == module, code


def test_one_payment_method_disabled_for_placement_and_switch_to_cash():
    from canteen.orders.errors import PaymentMethodDisabled
    from canteen.payments import errors as payments_errors

    assert payments_errors.PaymentMethodDisabled is PaymentMethodDisabled
    exc = PaymentMethodDisabled.for_method("upi")
    assert (exc.status_code, exc.code, exc.message) == (
        409,
        "PAYMENT_METHOD_DISABLED",
        "Paying by UPI is not available right now",
    )
    assert exc.details == [{"field": "payment_method", "issue": "disabled", "value": "upi"}]


def test_no_error_is_raised_with_an_inline_code():
    names = {cls.__name__ for cls in _error_classes()}
    inline = [hit for hit in _inline_codes(names) if not _allowed(hit[0])]
    assert not inline, f"raise a class per code (canteen.<domain>.errors): {inline}"


def test_field_problems_are_built_with_field_error():
    hand_built = [hit for hit in _hand_built_fields() if not _allowed(hit[0])]
    assert not hand_built, f"build details entries with core.errors.field_error: {hand_built}"


def test_the_allow_list_is_still_needed():
    names = {cls.__name__ for cls in _error_classes()}
    offenders = {p for p, *_ in _inline_codes(names)} | {p for p, _ in _hand_built_fields()}
    stale = [entry for entry in NOT_YET if not any(p.startswith(entry) for p in offenders)]
    assert not stale, f"{stale} no longer needs an exception: take it out of NOT_YET"


@pytest.mark.parametrize(
    ("args", "extra", "entry"),
    [
        (("otp", "expired"), {}, {"field": "otp", "issue": "expired"}),
        (
            ("phone", "invalid_phone", "Not a valid phone number"),
            {},
            {"field": "phone", "issue": "invalid_phone", "message": "Not a valid phone number"},
        ),
        (
            ("otp", "mismatch"),
            {"attempts_remaining": 2},
            {"field": "otp", "issue": "mismatch", "attempts_remaining": 2},
        ),
    ],
)
def test_field_error_shape(args, extra, entry):
    assert field_error(*args, **extra) == entry
