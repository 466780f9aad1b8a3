"""Rows of a feed file, streamed: CSV and JSON Lines in UTF-8 (BOM or not) or GB18030/GBK, and .xlsx.

Nothing here holds more than one row of a file: a five-million-row export is read as it comes.
Problems with the file as a whole (its encoding, its header) raise FeedFileError naming the file.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from checkd.errors import CheckdError

Row = Mapping[str, Any]
Located = tuple[str, Row | str]  # (`file:line`, the row or why it cannot be read)
SAMPLE_BYTES = 1 << 20  # what encoding detection reads: enough to reach the first Chinese names
# Encodings tried in turn when none is forced; GB18030 is a superset of GBK and GB2312.
DETECTED = ("utf-8", "gb18030")
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


class FeedFileError(CheckdError):
    """A feed file that cannot be read as a whole (encoding, header): one line naming it and why."""


def read_rows(
    paths: Iterable[str | Path],
    *,
    encoding: str | None = None,
    required: Sequence[str] = (),
    on_bytes: Callable[[int], None] | None = None,
) -> Iterator[Located]:
    """Yield (`file:line`, row) for every row of each file, in order.

    `.csv` and `.xlsx` by suffix, anything else JSON Lines. `required` columns are checked once
    per file against its header (the first row of a CSV or sheet, the first object of JSON Lines).
    `on_bytes` is told how far into the file reading has got (for a progress bar).
    """
    for path in map(Path, paths):
        suffix = path.suffix.lower()
        if suffix == ".xlsx":
            yield from _xlsx_rows(path, required)
            if on_bytes is not None:
                on_bytes(path.stat().st_size)
            continue
        chosen = encoding or detect_encoding(path)
        with path.open("rb") as raw:
            text = io.TextIOWrapper(raw, encoding=chosen, errors="strict", newline="")
            rows = _csv_rows(path, text, required) if suffix == ".csv" else _jsonl_rows(path, text, required)
            try:
                for count, located in enumerate(rows, start=1):
                    yield located
                    if on_bytes is not None and count % 1000 == 0:
                        on_bytes(raw.tell())
            except UnicodeDecodeError as exc:
                raise FeedFileError(
                    f"{path.name}: encoding: not valid {chosen} near byte {raw.tell() - len(exc.object)}"
                    f" ({exc.reason}); pass --encoding with the file's encoding"
                ) from None
            if on_bytes is not None:
                on_bytes(raw.tell())


def detect_encoding(path: Path) -> str:
    """The encoding of a text feed: UTF-8 with a BOM, UTF-8, else GB18030 (Excel's "CSV" on Chinese Windows).

    Refuses, naming the file, what is neither (UTF-16, binary, another code page).
    """
    with path.open("rb") as handle:
        sample = handle.read(SAMPLE_BYTES)
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith(_UTF16_BOMS):
        raise FeedFileError(
            f"{path.name}: encoding: UTF-16 (it starts with a UTF-16 byte order mark); "
            "save it as UTF-8 or pass --encoding utf-16"
        )
    if b"\x00" in sample:
        raise FeedFileError(f"{path.name}: encoding: NUL bytes, not a text file (an .xls or UTF-16 export?)")
    first_problem = ""
    for candidate in DETECTED:
        try:
            codecs.getincrementaldecoder(candidate)("strict").decode(sample, final=len(sample) < SAMPLE_BYTES)
        except UnicodeDecodeError as exc:
            first_problem = first_problem or f"byte 0x{sample[exc.start]:02x} at offset {exc.start}"
            continue
        return candidate
    raise FeedFileError(
        f"{path.name}: encoding: neither UTF-8 nor GB18030/GBK ({first_problem} is not valid in either); "
        "pass --encoding with the file's encoding"
    )


def check_encoding_name(name: str) -> str | None:
    """Why `--encoding NAME` cannot be used, or None."""
    try:
        codecs.lookup(name)
    except LookupError:
        return f"unknown encoding {name!r} (e.g. utf-8, utf-8-sig, gb18030, gbk)"
    return None


def _check_header(path: Path, header: Sequence[str], required: Sequence[str]) -> None:
    """One error for the whole file when columns are missing or named twice, instead of one per row."""
    missing = [column for column in required if column not in header]
    if missing:
        plural = "s" if len(missing) > 1 else ""
        raise FeedFileError(f"{path.name}: header: missing column{plural} {', '.join(missing)}")
    twice = sorted({column for column in header if column and header.count(column) > 1})
    if twice:
        raise FeedFileError(f"{path.name}: header: column named more than once: {', '.join(twice)}")


def _csv_rows(path: Path, text: io.TextIOWrapper, required: Sequence[str]) -> Iterator[Located]:
    reader = csv.reader(text)
    header = [column.strip() for column in next(reader, [])]
    if not header:
        raise FeedFileError(f"{path.name}: header: the file is empty")
    _check_header(path, header, required)
    width = len(header)
    for values in reader:
        if not any(values):
            continue  # a blank line, or one of commas only (Excel writes those at the end)
        where = f"{path.name}:{reader.line_num}"
        if len(values) > width and any(v.strip() for v in values[width:]):
            yield where, "more values than columns"
        else:
            yield where, dict(zip(header, values, strict=False))


def _jsonl_rows(path: Path, text: io.TextIOWrapper, required: Sequence[str]) -> Iterator[Located]:
    header_checked = False
    for number, line in enumerate(text, start=1):
        if not line.strip():
            continue
        where = f"{path.name}:{number}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            yield where, f"not valid JSON: {exc.msg} at column {exc.colno}"
            continue
        if not isinstance(row, dict):
            yield where, "not a JSON object"
            continue
        if not header_checked:
            _check_header(path, list(row), required)  # the first object's keys stand for a header
            header_checked = True
        yield where, row


def _xlsx_rows(path: Path, required: Sequence[str]) -> Iterator[Located]:
    """The first sheet's rows, read in openpyxl's streaming (read-only) mode."""
    import openpyxl  # only for spreadsheets: a CSV import does not pay for loading it
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, OSError, KeyError, ValueError) as exc:
        raise FeedFileError(f"{path.name}: not a readable .xlsx workbook ({exc})") from None
    try:
        sheet = book.worksheets[0]
        cells = sheet.iter_rows(values_only=True)
        header = [_cell(value) for value in next(cells, ())]
        while header and not header[-1]:
            header.pop()  # trailing empty header cells of a sheet's used range
        if not header:
            raise FeedFileError(f"{path.name}: header: the first sheet is empty")
        _check_header(path, header, required)
        width = len(header)
        for number, values in enumerate(cells, start=2):
            texts = [_cell(value) for value in values]
            if not any(texts):
                continue
            where = f"{path.name}:{number}"
            if len(texts) > width and any(texts[width:]):
                yield where, "more values than columns"
            else:
                yield where, dict(zip(header, texts, strict=False))
    finally:
        book.close()


def _cell(value: Any) -> str:
    """A cell as the interchange format's text: dates as ISO dates, whole numbers without '.0'."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
