"""CSV cells that a spreadsheet would run as formulas reach the manager as text."""

from __future__ import annotations

import csv
import io

import pytest

from canteen.reports.csv import _line, cell, rupees


@pytest.mark.parametrize(
    "text",
    ['=HYPERLINK("http://x","click")', "+1+2", "-1+cmd|' /C calc'!A0", "@SUM(A1:A2)", "\tx"],
)
def test_text_that_would_run_as_a_formula_is_kept_as_text(text):
    assert cell(text) == "'" + text
    [row] = csv.reader(io.StringIO(_line(["id", text]).decode()))
    assert row == ["id", "'" + text]


@pytest.mark.parametrize("value", ["good", "Masala Dosa", "", "2026-12-04T10:00:00+05:30", 4, 0])
def test_ordinary_values_are_unchanged(value):
    assert cell(value) == value


def test_amounts_stay_numbers_even_when_negative():
    assert cell(rupees(-5050)) == "-50.50"
    assert cell("-12") == "-12"
    assert cell(None) == ""
