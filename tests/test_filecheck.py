"""salesml.io.filecheck: binary files, over-long lines and bad bytes, found across chunk borders."""

from __future__ import annotations

from pathlib import Path

import pytest

from salesml.errors import DataError
from salesml.io.filecheck import encoding_problem, scan_csv


def _write(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / "f.csv"
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("chunk", [3, 7, 64, 1 << 22])
def test_a_long_line_is_found_whatever_the_chunk_size(tmp_path: Path, chunk: int):
    lines = [b"a,b", b"1,2", b"3," + b"x" * 40, b"5,6"]
    path = _write(tmp_path, b"\n".join(lines) + b"\n")
    with pytest.raises(DataError) as info:
        scan_csv(path, chunk=chunk, max_line=30)
    assert f"{path}: line 3 is 42 bytes long" in str(info.value)


@pytest.mark.parametrize("chunk", [3, 7, 1 << 22])
def test_a_long_last_line_without_newline(tmp_path: Path, chunk: int):
    path = _write(tmp_path, b"a,b\n1,2\n" + b"y" * 50)
    with pytest.raises(DataError, match="line 3 is 50 bytes long"):
        scan_csv(path, chunk=chunk, max_line=30)


@pytest.mark.parametrize("chunk", [2, 5, 1 << 22])
def test_lines_at_the_limit_pass_and_huge_exponents_are_seen(tmp_path: Path, chunk: int):
    path = _write(tmp_path, b"a,b\n" + b"1," + b"9" * 28 + b"\n2,3e4567\n")
    assert scan_csv(path, chunk=chunk, max_line=30) is True
    plain = _write(tmp_path, b"a,b\n1,2e45\n")
    assert scan_csv(plain, chunk=chunk, max_line=30) is False


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"PAR1\x00\x00", "Parquet"),
        (b"PK\x03\x04rest", "zip archive"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1", ".xls"),
        (b"\x1f\x8b\x08", "gzip"),
        (b"a,b\n1,\x002\n", "NUL byte at offset 6"),
        ("a,b\n1,2\n".encode("utf-16"), "UTF-16"),
    ],
)
def test_binary_files_are_named_for_what_they_look_like(tmp_path: Path, data: bytes, fragment):
    path = _write(tmp_path, data)
    with pytest.raises(DataError) as info:
        scan_csv(path)
    assert str(path) in str(info.value) and "binary" in str(info.value)
    assert fragment in str(info.value)


@pytest.mark.parametrize("block_size", [1, 2, 3, 5, 1 << 20])
def test_encoding_problem_gives_line_and_column(tmp_path: Path, block_size: int):
    # "é" is two bytes in UTF-8: a block border inside it is not an error
    data = "id,città\n1,Forlì\n2,".encode() + b"Cr\xe9teil\n"
    path = _write(tmp_path, data)
    text = encoding_problem(path, "utf-8", given=True, block_size=block_size)
    assert text.startswith(f"{path}: byte 0xe9 at line 3, column 5 (file offset 23)")
    assert "data.read.encoding says" in text and "cp1252" in text


def test_encoding_problem_without_a_setting_asks_for_utf8(tmp_path: Path):
    path = _write(tmp_path, b"a\n\xff\n")
    text = encoding_problem(path, "utf-8", given=False, setting=None)
    assert "line 2, column 1" in text and "it was read as" in text
    assert text.endswith("save the file as UTF-8")
