"""One version for the release: every package and every place that reports it agree."""

from __future__ import annotations

import json
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest

import canteen
import canteen_app
import canteen_client
from canteen.cli import main

ROOT = Path(__file__).resolve().parents[3]


def test_every_package_carries_the_backend_version():
    expected = version("canteen")
    assert canteen.__version__ == expected
    assert version("canteen-client") == canteen_client.__version__ == expected
    # The app's literal survives `flet build`, which packs sources without metadata.
    assert version("canteen-app") == canteen_app.__version__ == expected
    portal = json.loads((ROOT / "portal" / "package.json").read_text())
    assert portal["version"] == expected
    lock = json.loads((ROOT / "portal" / "package-lock.json").read_text())
    assert lock["version"] == lock["packages"][""]["version"] == expected
    # The portal's checked-in contract (npm run gen:api rewrites it from the backend).
    contract = json.loads((ROOT / "portal" / "openapi.json").read_text())
    assert contract["info"]["version"] == expected
    workspace = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert workspace["project"]["version"] == expected


def test_every_package_declares_the_licence():
    for name in ("backend", "client", "app"):
        meta = tomllib.loads((ROOT / name / "pyproject.toml").read_text())
        assert meta["project"]["license"] == "Apache-2.0", name
    portal = json.loads((ROOT / "portal" / "package.json").read_text())
    assert portal["license"] == "Apache-2.0"
    assert "Apache License" in (ROOT / "LICENSE").read_text()


def test_cli_reports_the_package_version(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == f"canteen {version('canteen')}"
