"""Entry point placeholder; the app is being built (issue #8)."""


def run() -> None:
    raise SystemExit("canteen-app is not built yet")
