"""Profiles, device tokens and admin staff management, with their error paths."""

from __future__ import annotations

from canteen.users.models import DeviceToken, User
from conftest import API, assert_error, bearer, count_rows, login_customer, login_staff

FCM_TOKEN = "fcm-token-" + "a" * 140


async def test_profile_update(client, container):
    s = await login_customer(client, container)
    r = await client.patch(
        f"{API}/users/me", json={"name": "Priya", "email": "priya@campus.edu"}, headers=bearer(s)
    )
    assert r.status_code == 200
    assert r.json()["data"]["name"] == "Priya" and r.json()["data"]["email"] == "priya@campus.edu"
    # Role and phone are not editable through the profile.
    r = await client.patch(f"{API}/users/me", json={"role": "admin"}, headers=bearer(s))
    assert r.json()["data"]["role"] == "customer"


async def test_profile_update_rejects_bad_values_and_changes_nothing(client, container):
    s = await login_customer(client, container)
    r = await client.patch(
        f"{API}/users/me", json={"name": "", "email": "not-an-email"}, headers=bearer(s)
    )
    err = assert_error(r, 400, "VALIDATION_ERROR")
    assert sorted(d["field"] for d in err["details"]) == ["email", "name"]
    me = (await client.get(f"{API}/users/me", headers=bearer(s))).json()["data"]
    assert me["name"] is None and me["email"] is None


async def test_device_token_upsert_moves_and_deletes(client, container):
    a = await login_customer(client, container, "+919876500001")
    b = await login_customer(client, container, "+919876500002")
    body = {"token": FCM_TOKEN, "platform": "android"}
    r = await client.post(f"{API}/users/device-token", json=body, headers=bearer(a))
    assert r.status_code == 200 and r.json()["data"]["platform"] == "android"
    r = await client.post(f"{API}/users/device-token", json=body, headers=bearer(a))
    assert r.status_code == 200
    assert await count_rows(container, DeviceToken) == 1
    # The same device signs in as someone else: the token follows the new account.
    r = await client.post(
        f"{API}/users/device-token", json={**body, "platform": "ios"}, headers=bearer(b)
    )
    assert r.status_code == 200
    async with container.sessionmaker() as s:
        row = (await s.execute(DeviceToken.__table__.select())).one()
    assert str(row.user_id) == b["user"]["id"] and row.platform == "ios"
    # A's delete does not remove B's device.
    r = await client.request(
        "DELETE", f"{API}/users/device-token", json={"token": FCM_TOKEN}, headers=bearer(a)
    )
    assert r.status_code == 204
    assert await count_rows(container, DeviceToken) == 1
    r = await client.request(
        "DELETE", f"{API}/users/device-token", json={"token": FCM_TOKEN}, headers=bearer(b)
    )
    assert r.status_code == 204
    assert await count_rows(container, DeviceToken) == 0


async def test_device_token_validation(client, container):
    s = await login_customer(client, container)
    r = await client.post(
        f"{API}/users/device-token",
        json={"token": FCM_TOKEN, "platform": "windows"},
        headers=bearer(s),
    )
    err = assert_error(r, 400, "VALIDATION_ERROR")
    assert err["details"][0]["field"] == "platform"
    r = await client.post(f"{API}/users/device-token", json={"token": FCM_TOKEN, "platform": "web"})
    assert_error(r, 401, "INVALID_TOKEN")
    assert await count_rows(container, DeviceToken) == 0


async def test_admin_creates_lists_and_updates_staff(client, container):
    admin = await login_staff(client, container, "admin", "+919000000101")
    r = await client.post(
        f"{API}/admin/staff",
        json={
            "phone": "90000 00202",
            "name": "Ravi",
            "role": "kitchen",
            "password": "kitchen-pass-1",
        },
        headers=bearer(admin),
    )
    assert r.status_code == 201, r.text
    ravi = r.json()["data"]
    assert ravi["phone"] == "+919000000202" and ravi["role"] == "kitchen"
    r = await client.post(
        f"{API}/auth/staff-login", json={"phone": "+919000000202", "password": "kitchen-pass-1"}
    )
    assert r.status_code == 200
    r = await client.get(f"{API}/admin/staff", params={"per_page": 1}, headers=bearer(admin))
    body = r.json()
    assert body["meta"] == {"page": 1, "per_page": 1, "total": 2}
    assert len(body["data"]) == 1
    r = await client.patch(
        f"{API}/admin/staff/{ravi['id']}",
        json={"role": "delivery", "name": "Ravi K"},
        headers=bearer(admin),
    )
    assert r.json()["data"]["role"] == "delivery" and r.json()["data"]["name"] == "Ravi K"
    r = await client.patch(
        f"{API}/admin/staff/{ravi['id']}",
        json={"password": "new-password-2"},
        headers=bearer(admin),
    )
    assert r.status_code == 200
    r = await client.post(
        f"{API}/auth/staff-login", json={"phone": "+919000000202", "password": "new-password-2"}
    )
    assert r.status_code == 200


async def test_staff_creation_errors_write_nothing(client, container):
    admin = await login_staff(client, container, "admin", "+919000000101")
    before = await count_rows(container, User)
    cases = [
        (
            {"phone": "+919000000101", "name": "Dup", "role": "kitchen", "password": "password-1"},
            409,
            "PHONE_TAKEN",
        ),
        (
            {"phone": "123", "name": "X", "role": "kitchen", "password": "password-1"},
            400,
            "VALIDATION_ERROR",
        ),
        (
            {"phone": "+919000000303", "name": "X", "role": "customer", "password": "password-1"},
            400,
            "VALIDATION_ERROR",
        ),
        (
            {"phone": "+919000000303", "name": "X", "role": "kitchen", "password": "short"},
            400,
            "VALIDATION_ERROR",
        ),
    ]
    for body, status, code in cases:
        r = await client.post(f"{API}/admin/staff", json=body, headers=bearer(admin))
        assert_error(r, status, code)
    assert await count_rows(container, User) == before


async def test_staff_update_errors(client, container):
    admin = await login_staff(client, container, "admin", "+919000000101")
    customer = await login_customer(client, container)
    r = await client.patch(
        f"{API}/admin/staff/00000000-0000-0000-0000-000000000000",
        json={"name": "x"},
        headers=bearer(admin),
    )
    assert_error(r, 404, "NOT_FOUND")
    # Customers are not staff: they cannot be managed here.
    r = await client.patch(
        f"{API}/admin/staff/{customer['user']['id']}", json={"role": "admin"}, headers=bearer(admin)
    )
    assert_error(r, 404, "NOT_FOUND")
    r = await client.patch(
        f"{API}/admin/staff/{admin['user']['id']}", json={"is_active": False}, headers=bearer(admin)
    )
    assert_error(r, 409, "CANNOT_CHANGE_OWN_ACCOUNT")
    r = await client.patch(
        f"{API}/admin/staff/not-a-uuid", json={"name": "x"}, headers=bearer(admin)
    )
    err = assert_error(r, 400, "VALIDATION_ERROR")
    assert err["details"][0]["field"] == "staff_id"
    me = (await client.get(f"{API}/users/me", headers=bearer(admin))).json()["data"]
    assert me["is_active"] is True and me["role"] == "admin"


async def test_customers_and_kitchen_cannot_manage_staff(client, container):
    customer = await login_customer(client, container)
    kitchen = await login_staff(client, container, "kitchen", "+919000000201")
    body = {"phone": "+919000000303", "name": "X", "role": "admin", "password": "password-1"}
    for session in (customer, kitchen):
        r = await client.post(f"{API}/admin/staff", json=body, headers=bearer(session))
        assert_error(r, 403, "INSUFFICIENT_ROLE")
    assert await count_rows(container, User) == 2


async def test_kitchen_lists_active_delivery_staff(client, container):
    admin = await login_staff(client, container, "admin", "+919000000101")
    kitchen = await login_staff(client, container, "kitchen", "+919000000201")
    rider = await login_staff(client, container, "delivery", "+919000000301")
    await login_staff(client, container, "delivery", "+919000000302")
    customer = await login_customer(client, container)
    r = await client.patch(
        f"{API}/admin/staff/{rider['user']['id']}", json={"is_active": False}, headers=bearer(admin)
    )
    assert r.status_code == 200
    r = await client.get(f"{API}/admin/delivery-staff", headers=bearer(kitchen))
    assert r.status_code == 200
    assert [u["phone"] for u in r.json()["data"]] == ["+919000000302"]
    r = await client.get(f"{API}/admin/delivery-staff", headers=bearer(customer))
    assert_error(r, 403, "INSUFFICIENT_ROLE")
