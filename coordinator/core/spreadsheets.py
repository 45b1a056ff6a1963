"""Reading and writing the spreadsheets programmes keep their people and history in: CSV (as Excel saves
it in Sweden and Denmark: semicolons, decimal commas, UTF-8 with or without a byte-order mark, or
Windows-1252 from older versions) and XLSX (openpyxl). Knows no app: the importers name their columns.

Cells come back as text, numbers, dates or ``None``; ``cell_text`` and ``parse_date`` turn them into what
the importers need, and every error an importer reports names the row (as the spreadsheet numbers it,
header = 1) and the column (its heading as written in the file).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import override

from coordinator.core.formatting import Money

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 50_000
MAX_COLUMNS = 60
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

Cell = str | int | float | Decimal | dt.date | dt.datetime | dt.time | bool | None


@dataclass(frozen=True)
class Column:
    """A column an importer knows: its key, its heading (an English msgid, translated for export) and the
    other headings people write for it in Swedish, Danish and English."""

    key: str
    label: str | Promise
    aliases: tuple[str, ...] = ()
    required: bool = False


@dataclass(frozen=True)
class RowError:
    """One refusal: the row as the spreadsheet numbers it and the column heading as written."""

    row: int
    column: str
    message: str

    def as_dict(self) -> dict[str, object]:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class Sheet:
    """A read spreadsheet: the headings as written, and each data row with its spreadsheet row number."""

    headers: list[str]
    rows: list[tuple[int, list[Cell]]] = field(default_factory=list)


def normalise_heading(text: str) -> str:
    """``"E-post "`` and ``"e_post"`` alike: case, accents of the Latin letters and punctuation ignored,
    the Nordic letters kept apart."""
    text = unicodedata.normalize("NFC", text).casefold()
    return "".join(ch for ch in text if ch.isalnum())


def file_error(message: str) -> ValidationError:
    return ValidationError({"file": [message]})


def read_sheet(data: bytes) -> Sheet:
    """Read the first worksheet of an XLSX file or a CSV file (told apart by content, not by name)."""
    if not data:
        raise file_error(_("The file is empty."))
    if len(data) > MAX_BYTES:
        raise file_error(_("The file is larger than 20 MB."))
    if data[:4] == b"PK\x03\x04":
        raw_rows = _xlsx_rows(data)
    else:
        raw_rows = _csv_rows(data)
    header_row: list[Cell] | None = None
    sheet = Sheet(headers=[])
    for number, cells in raw_rows:
        if all(_blank(cell) for cell in cells):
            continue
        if header_row is None:
            header_row = cells
            while header_row and _blank(header_row[-1]):
                header_row.pop()
            if len(header_row) > MAX_COLUMNS:
                raise file_error(_("The file has more than %(count)s columns.") % {"count": MAX_COLUMNS})
            sheet.headers = [cell_text(cell) for cell in header_row]
            continue
        if len(sheet.rows) >= MAX_ROWS:
            raise file_error(_("The file has more than %(count)s rows.") % {"count": MAX_ROWS})
        sheet.rows.append((number, cells))
    if header_row is None:
        raise file_error(_("The file is empty."))
    return sheet


def _blank(cell: Cell) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _xlsx_rows(data: bytes) -> Iterable[tuple[int, list[Cell]]]:
    # Imported here: only the XLSX path needs openpyxl, which takes a while to load.
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise file_error(_("This is not a spreadsheet that can be read (CSV or XLSX).")) from exc
    try:
        sheet = book.worksheets[0]
        rows: list[tuple[int, list[Cell]]] = []
        for number, values in enumerate(sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS + 1), 1):
            # Blank rows count too: a sheet claiming a million rows stops here, not in memory.
            if number > 2 * MAX_ROWS:
                raise file_error(_("The file has more than %(count)s rows.") % {"count": MAX_ROWS})
            rows.append((number, list(values)))
    except (KeyError, OSError, ValueError, IndexError) as exc:
        raise file_error(_("This is not a spreadsheet that can be read (CSV or XLSX).")) from exc
    finally:
        book.close()
    return rows


def decode_text(data: bytes) -> str:
    """UTF-8 with or without a byte-order mark, else Windows-1252 (what older Excel saves as "CSV")."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _csv_rows(data: bytes) -> Iterable[tuple[int, list[Cell]]]:
    text = decode_text(data)
    if "\x00" in text:
        raise file_error(_("This is not a spreadsheet that can be read (CSV or XLSX)."))
    first_line = text.split("\n", 1)[0]
    # Swedish and Danish Excel separate with semicolons (the comma is their decimal sign); other tools use
    # commas or tabs. The heading line holds no data, so the separator it uses most is the file's.
    delimiter = max(";,\t", key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[tuple[int, list[Cell]]] = []
    try:
        rows.extend((reader.line_num, list(values)) for values in reader)
    except csv.Error as exc:
        raise file_error(_("Row %(row)s: %(error)s") % {"row": reader.line_num, "error": exc}) from exc
    return rows


# Text a spreadsheet would run as a formula when it starts a cell. In CSV such text is written with a
# leading apostrophe (as Excel itself marks text), which reading takes off again; XLSX stores it as text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _csv_safe(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    if isinstance(value, Money):
        value = value.value
    if isinstance(value, float | Decimal):
        # Swedish and Danish Excel read a decimal comma as a number and a decimal point as text.
        return format(value, "f").replace(".", ",")
    return "" if value is None else value


def _unquote(text: str) -> str:
    return text[1:] if text.startswith("'") and text[1:].startswith(FORMULA_STARTS) else text


def write_csv(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """CSV as Swedish and Danish Excel opens it directly: UTF-8 with a byte-order mark, semicolons."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([_csv_safe(value) for value in headers])
    for row in rows:
        writer.writerow([_csv_safe(value) for value in row])
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")


def write_xlsx(headers: Sequence[str], rows: Iterable[Sequence[object]], *, title: str) -> bytes:
    from openpyxl import Workbook  # see _xlsx_rows
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31])

    def cells(values: Sequence[object]) -> list[object]:
        out = []
        for value in values:
            if isinstance(value, Money):
                # A number Excel sums, shown with its currency ("247 900,00 kr" in a Swedish Excel).
                cell = WriteOnlyCell(sheet, value=value.value)
                cell.number_format = f'#,##0.00 "{value.currency}"'
            else:
                cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # text, never a formula, whatever it starts with
            out.append(cell)
        return out

    sheet.append(cells(headers))
    for row in rows:
        sheet.append(cells(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def match_columns(sheet: Sheet, columns: Sequence[Column]) -> dict[str, int]:
    """Which position each known column has in the sheet. Headings are accepted in English, Swedish and
    Danish (the column's label in each language, and its aliases); other columns are ignored. A missing
    required column or a column given twice is an error naming it."""
    known: dict[str, str] = {}
    for column in columns:
        names = {column.key, *column.aliases}
        for language in ("en", "sv", "da"):
            with override(language):
                names.add(str(column.label))
        for name in names:
            known[normalise_heading(name)] = column.key
    found: dict[str, int] = {}
    for position, heading in enumerate(sheet.headers):
        key = known.get(normalise_heading(heading))
        if key is None:
            continue
        if key in found:
            raise file_error(
                _("The column %(column)s is given twice.") % {"column": heading or column_letter(position)}
            )
        found[key] = position
    missing = [str(column.label) for column in columns if column.required and column.key not in found]
    if missing:
        raise file_error(_("Required columns are missing: %(columns)s.") % {"columns": ", ".join(missing)})
    return found


def column_letter(position: int) -> str:
    letters = ""
    position += 1
    while position:
        position, rest = divmod(position - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def cell_text(cell: Cell) -> str:
    """A cell as text: numbers without a spurious ".0" (a phone number XLSX stored as a number), dates in
    ISO form, surrounding spaces removed."""
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "1" if cell else "0"
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, dt.datetime):
        return cell.date().isoformat() if cell.time() == dt.time() else cell.isoformat(sep=" ")
    if isinstance(cell, dt.date):
        return cell.isoformat()
    return _unquote(str(cell).strip())


def parse_number(text: str) -> Decimal:
    """A number as people in the Nordic countries write it ("1 234,5") or as a program does ("1234.5")."""
    cleaned = text.strip().replace("\u00a0", "").replace(" ", "").replace("\u2212", "-")
    if "," in cleaned and "." in cleaned:
        cleaned = cleaned.replace(".", "").replace(",", ".")  # 1.234,5
    else:
        cleaned = cleaned.replace(",", ".")
    try:
        number = Decimal(cleaned)
    except InvalidOperation as exc:
        raise ValueError(text) from exc
    if not number.is_finite():
        raise ValueError(text)
    return number


EXCEL_EPOCH = dt.date(1899, 12, 30)
_SERIAL = re.compile(r"^\d{1,7}([.,]\d+)?$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$")
_DAY_FIRST = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")


def parse_date(cell: Cell) -> dt.date:
    """A date from a cell: a date cell, an Excel serial number (also as text, with a decimal comma: the
    time of day is dropped), ISO ``2026-12-04``, or the day first as Nordic people write it: ``4/12/2026``,
    ``4.12.2026``, ``04-12-2026``. Two-digit years are refused (1926 or 2026?). Raises ``ValueError``."""
    if isinstance(cell, dt.datetime):
        return cell.date()
    if isinstance(cell, dt.date):
        return cell
    if isinstance(cell, bool) or cell is None:
        raise ValueError(cell)
    if isinstance(cell, int | float | Decimal):
        return _from_serial(Decimal(str(cell)))
    text = str(cell).strip()
    if _SERIAL.match(text):
        return _from_serial(parse_number(text))
    found = _ISO.match(text)
    if found:
        year, month, day = (int(part) for part in found.groups())
        return dt.date(year, month, day)
    found = _DAY_FIRST.match(text)
    if found:
        day, month, year = (int(part) for part in found.groups())
        return dt.date(year, month, day)
    raise ValueError(text)


def _from_serial(serial: Decimal) -> dt.date:
    # Excel's 1900 date system (day 1 = 1900-01-01, counting its fictitious 29 February 1900): from March
    # 1900 on, day n is 1899-12-30 + n. Dates before that are not history anyone imports.
    days = int(serial)
    if not 61 <= days <= 2_958_465:
        raise ValueError(serial)
    return EXCEL_EPOCH + dt.timedelta(days=days)


CREATE, UPDATE, UNCHANGED, ERROR = "create", "update", "unchanged", "error"


@dataclass
class RowOutcome:
    """What an import does with one row: create, update, leave unchanged, or refuse (with its errors)."""

    row: int
    label: str
    outcome: str = CREATE
    errors: list[RowError] = field(default_factory=list)

    def refuse(self, column: str, message: str) -> None:
        self.outcome = ERROR
        self.errors.append(RowError(self.row, column, message))

    def as_dict(self) -> dict[str, object]:
        return {
            "row": self.row,
            "label": self.label,
            "outcome": self.outcome,
            "errors": [error.as_dict() for error in self.errors],
        }


@dataclass
class ImportReport:
    """The result of an import or its dry run: each row's outcome, and whether it was saved."""

    rows: list[RowOutcome] = field(default_factory=list)
    dry_run: bool = True
    committed: bool = False
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[RowError]:
        return [error for row in self.rows for error in row.errors]

    @property
    def ok(self) -> bool:
        return not self.errors

    def counts(self) -> dict[str, int]:
        counts = {CREATE: 0, UPDATE: 0, UNCHANGED: 0, ERROR: 0}
        for row in self.rows:
            counts[row.outcome] += 1
        return counts

    def as_dict(self) -> dict[str, object]:
        return {
            "dry_run": self.dry_run,
            "committed": self.committed,
            "counts": self.counts(),
            "ignored_columns": self.ignored_columns,
            "rows": [row.as_dict() for row in self.rows],
            "errors": [error.as_dict() for error in self.errors],
        }
