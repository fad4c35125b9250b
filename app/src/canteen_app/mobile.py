"""Entry point of the Android/iOS builds (`flet build apk|ipa`, see docs/app.md).

On a phone there is no command line: the API address comes from `CANTEEN_API_URL` when
the build sets it, else from `API_URL` below (edit it for your campus before building).
The cart and the session live in the platform's preferences (Flet client storage).
Push: pass a `PushRegistrar` backed by Firebase Cloud Messaging as `push_factory`
(docs/app.md, "Push notifications"); without one the app runs without push.
"""

from __future__ import annotations

import os

import flet as ft

from canteen_app.main import default_data_dir, make_main

API_URL = os.environ.get("CANTEEN_API_URL", "https://canteen.example.edu/api/v1")


def main() -> None:
    ft.run(make_main(API_URL, default_data_dir(), storage="auto"))


if __name__ == "__main__":
    main()
