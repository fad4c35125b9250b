"""Size limits of the product code (issue 15): no file in backend/src over 500 lines and no
function over 80, so each stays readable in one sitting."""

from __future__ import annotations

import ast
from pathlib import Path

import canteen

SRC = Path(canteen.__file__).parent
MAX_FILE_LINES = 500
MAX_FUNCTION_LINES = 80


def _files() -> list[Path]:
    files = sorted(SRC.rglob("*.py"))
    assert len(files) > 50  # the walk found the package
    return files


def test_no_file_is_over_500_lines():
    long = {
        p.relative_to(SRC).as_posix(): n
        for p in _files()
        if (n := len(p.read_text().splitlines())) > MAX_FILE_LINES
    }
    assert not long, f"split these files (lines): {long}"


def test_no_function_is_over_80_lines():
    long = {}
    for path in _files():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long[f"{path.relative_to(SRC).as_posix()}:{node.name}"] = lines
    assert not long, f"split these functions into named steps (lines): {long}"
