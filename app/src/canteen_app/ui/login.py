"""/login: phone → OTP, with the resend timer."""

from __future__ import annotations

import flet as ft

from canteen_app.state.errors import UiAction
from canteen_app.state.session import tries_left_text
from canteen_app.ui.base import Screen


class LoginScreen(Screen):
    title = "Sign in"

    def appbar(self) -> ft.AppBar:
        return ft.AppBar(title=ft.Text("Canteen"), automatically_imply_leading=False)

    def build(self) -> list[ft.Control]:
        self.phone = ft.TextField(
            label="Mobile number",
            hint_text="98123 45678",
            keyboard_type=ft.KeyboardType.PHONE,
            on_submit=self.send_code,
            on_change=self.typed,
        )
        self.send = ft.FilledButton("Send code", on_click=self.send_code)
        self.sent_text = ft.Text()
        self.otp = ft.TextField(
            label="6-digit code",
            keyboard_type=ft.KeyboardType.NUMBER,
            max_length=6,
            on_submit=self.verify,
            on_change=self.typed,
        )
        self.verify_button = ft.FilledButton("Verify and sign in", on_click=self.verify)
        self.resend = ft.TextButton("Resend code", on_click=self.resend_code)
        self.change = ft.TextButton("Change number", on_click=self.change_number)
        self.busy = ft.ProgressRing(width=20, height=20, visible=False)
        self.phone_step = ft.Column([self.phone, ft.Row([self.send, self.busy])])
        self.code_step = ft.Column(
            [self.sent_text, self.otp, self.verify_button, ft.Row([self.resend, self.change])],
            visible=False,
        )
        return [
            ft.Text("Order from the campus canteen", size=22, weight=ft.FontWeight.BOLD),
            ft.Text("Sign in with your mobile number. We will text you a code."),
            self.phone_step,
            self.code_step,
        ]

    def refresh(self) -> None:
        super().refresh()
        auth = self.state.auth
        sent = auth.otp is not None
        self.phone_step.visible = not sent
        self.code_step.visible = sent
        if sent:
            self.sent_text.value = f"We sent a code to {auth.phone}."
            if auth.attempts_remaining is not None:
                shown = self.otp.error if isinstance(self.otp.error, str) else None
                left = tries_left_text(auth.attempts_remaining, shown)
                self.sent_text.value += f" {left}" if left else ""
        self.tick()

    def tick(self) -> bool:
        wait = self.state.auth.resend_in()
        label = f"Resend code in {wait} s" if wait else "Resend code"
        changed = self.resend.content != label
        self.resend.content = label
        self.resend.disabled = wait > 0
        return changed

    async def typed(self) -> None:
        """Each keystroke reaches the server as an event, so the value is current when
        "Send code" is tapped right after typing."""
        self.phone.error = None
        self.otp.error = None

    def _busy(self, busy: bool) -> None:
        self.busy.visible = busy
        self.send.disabled = busy
        self.verify_button.disabled = busy
        self.page.update()

    def _fields(self, action: UiAction) -> None:
        self.phone.error = action.field_errors.get("phone")
        self.otp.error = action.field_errors.get("otp") or (
            action.message if self.state.auth.otp is not None else None
        )
        if self.state.auth.otp is None and self.phone.error is None:
            self.phone.error = action.message

    async def send_code(self) -> None:
        self.phone.error = None
        self._busy(True)
        try:
            otp = await self.app.attempt(
                lambda: self.state.auth.request_otp(self.phone.value or ""),
                on_fields=self._fields,
            )
        finally:
            self._busy(False)
        if otp is not None:
            self.otp.value = ""
            self.otp.error = None
            self.redraw()
            await self.otp.focus()  # type: ignore[no-untyped-call]

    async def resend_code(self) -> None:
        otp = await self.app.attempt(self.state.auth.resend, on_fields=self._fields)
        if otp is not None:
            self.app.toast("A new code is on its way")
            self.redraw()

    async def change_number(self) -> None:
        self.state.auth.change_number()
        self.redraw()

    async def verify(self) -> None:
        self.otp.error = None
        self._busy(True)
        try:
            user = await self.app.attempt(
                lambda: self.state.auth.verify(self.otp.value or ""), on_fields=self._fields
            )
        finally:
            self._busy(False)
        if user is not None:
            await self.app.after_sign_in()
        else:
            self.redraw()
