"""Entry point for `flet build` (Android/iOS): the phone build of the student app."""

from canteen_app.mobile import main

main()
