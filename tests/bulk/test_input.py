"""Reading bulk-enroll INPUT: the three formats, line numbers, and malformed lines."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from stytch_totp.cli._bulk_enroll.input_formats import (
    InputFormat,
    InputFormatError,
    InputRecord,
    MalformedLine,
    count_records,
    guess_format,
    read_records,
)


def lines(text: str) -> list[bytes]:
    return text.encode().splitlines(keepends=True)


def parse(
    data: list[bytes], input_format: InputFormat | None = None, **kwargs: int
) -> list[tuple[int, str, int | None] | tuple[int, str]]:
    out: list[tuple[int, str, int | None] | tuple[int, str]] = []
    for item in read_records(data, input_format, **kwargs):
        if isinstance(item, InputRecord):
            out.append((item.line, item.params.user_id, item.params.expiration_minutes))
        else:
            out.append((item.line, "MALFORMED: " + item.reason))
    return out


class TestText:
    def test_one_user_id_per_line_blank_lines_skipped(self) -> None:
        data = lines("user-1\n\n  user-2  \r\nuser-3")

        assert parse(data) == [(1, "user-1", None), (3, "user-2", None), (4, "user-3", None)]

    def test_the_default_expiration_applies(self) -> None:
        assert parse(lines("user-1\n"), expiration_minutes=30) == [(1, "user-1", 30)]

    def test_a_line_with_whitespace_inside_or_invalid_utf8_is_malformed(self) -> None:
        data = [b"user-1\n", b"two words\n", b"\xff\xfe-bad\n", b"tab\there\n", b"user-5\n"]

        result = parse(data, InputFormat.TEXT)

        assert result[0] == (1, "user-1", None)
        assert result[1] == (2, "MALFORMED: the user id contains whitespace or control characters")
        assert result[2] == (3, "MALFORMED: not valid UTF-8")
        assert result[3][0] == 4
        assert "MALFORMED" in result[3][1]
        assert result[4] == (5, "user-5", None)

    def test_a_utf8_bom_is_not_part_of_the_first_id(self) -> None:
        assert parse([b"\xef\xbb\xbfuser-1\n"]) == [(1, "user-1", None)]

    def test_an_empty_input_has_no_records(self) -> None:
        assert parse([]) == []
        assert parse(lines("\n \n")) == []


class TestCSV:
    def test_the_user_id_column_is_found_by_name_and_other_columns_ignored(self) -> None:
        data = lines('email,User_ID,name\na@x.com,user-1,Ann\n"b@x.com","user-2","B, Jr"\n')

        assert parse(data) == [(2, "user-1", None), (3, "user-2", None)]

    def test_an_expiration_column_overrides_the_default_when_filled(self) -> None:
        data = lines("user_id,expiration_minutes\nuser-1,30\nuser-2,\n")

        assert parse(data, expiration_minutes=60) == [(2, "user-1", 30), (3, "user-2", 60)]

    def test_malformed_rows_are_reported_with_their_line_and_the_rest_read(self) -> None:
        data = lines(
            "user_id,expiration_minutes\n"
            "user-1,30\n"
            "user-2\n"  # too few fields
            'user-3,"30\n'  # broken quoting
            "user-4,soon\n"  # not an integer
            "user-5,2\n"  # out of bounds
            ",30\n"  # no user id
            "user-8,30,extra\n"  # too many fields
            "user-9,\n"
        )

        result = parse(data)

        assert result[0] == (2, "user-1", 30)
        assert result[1] == (3, "MALFORMED: expected 2 fields, got 1")
        assert result[2][0] == 4
        assert result[2][1].startswith("MALFORMED: not valid CSV")
        assert result[3] == (5, "MALFORMED: expiration_minutes is not an integer")
        assert result[4][0] == 6
        assert "between 5 and 1440" in result[4][1]
        assert result[5] == (7, "MALFORMED: the user_id field is empty")
        assert result[6] == (8, "MALFORMED: expected 2 fields, got 3")
        assert result[7] == (9, "user-9", None)

    def test_a_header_without_user_id_is_an_error_for_the_whole_input(self) -> None:
        with pytest.raises(InputFormatError, match="no user_id column"):
            parse(lines("email,name\na@x.com,Ann\n"), InputFormat.CSV)

    def test_an_unreadable_header_is_an_error_for_the_whole_input(self) -> None:
        with pytest.raises(InputFormatError, match="line 1"):
            parse([b"\xff,user_id\n"], InputFormat.CSV)

    def test_an_invalid_utf8_row_is_malformed(self) -> None:
        result = parse([b"user_id\n", b"\xffuser\n", b"user-3\n"])

        assert result == [(2, "MALFORMED: not valid UTF-8"), (3, "user-3", None)]


class TestJSONL:
    def test_objects_with_user_id_and_optional_expiration(self) -> None:
        data = lines(
            '{"user_id": "user-1"}\n'
            '{"user_id": "user-2", "expiration_minutes": 30, "email": "b@x.com"}\n'
            '{"user_id": "user-3", "expiration_minutes": null}\n'
        )

        assert parse(data, expiration_minutes=60) == [
            (1, "user-1", 60),
            (2, "user-2", 30),
            (3, "user-3", 60),
        ]

    @pytest.mark.parametrize(
        ("line", "reason"),
        [
            (b'{"user_id": "user-1"', "not valid JSON"),
            (b'["user-1"]', "not a JSON object"),
            (b'{"id": "user-1"}', '"user_id" is missing or not a non-empty string'),
            (b'{"user_id": 7}', '"user_id" is missing or not a non-empty string'),
            (b'{"user_id": " "}', '"user_id" is missing or not a non-empty string'),
            (b'{"user_id": "u", "expiration_minutes": "30"}', '"expiration_minutes" is not an'),
            (b'{"user_id": "u", "expiration_minutes": true}', '"expiration_minutes" is not an'),
            (b'{"user_id": "u", "expiration_minutes": 9999}', "between 5 and 1440"),
            (b'{"user_id": "a b"}', "whitespace"),
        ],
    )
    def test_malformed_lines_are_reported_and_the_rest_read(self, line: bytes, reason: str) -> None:
        data = [b'{"user_id": "first"}\n', line + b"\n", b'{"user_id": "last"}\n']

        result = list(read_records(data, InputFormat.JSONL))

        assert isinstance(result[0], InputRecord)
        assert isinstance(result[1], MalformedLine)
        assert result[1].line == 2
        assert reason in result[1].reason
        assert isinstance(result[2], InputRecord)
        assert result[2].line == 3

    def test_a_reason_never_repeats_the_line(self) -> None:
        [malformed] = read_records([b'{"user_id": "secretive value" '], InputFormat.JSONL)

        assert isinstance(malformed, MalformedLine)
        assert "secretive" not in malformed.reason


@pytest.mark.parametrize(
    ("first_line", "expected"),
    [
        (b'{"user_id": "u"}', InputFormat.JSONL),
        (b"  {", InputFormat.JSONL),
        (b"user_id", InputFormat.CSV),
        (b"email,user_id", InputFormat.CSV),
        (b'"email", "USER_ID "', InputFormat.CSV),
        (b"\xef\xbb\xbfuser_id,x", InputFormat.CSV),
        (b"user-test-1234", InputFormat.TEXT),
        (b"user-1,user-2", InputFormat.TEXT),
        (b"\xff\xfe", InputFormat.TEXT),
        (b'"broken', InputFormat.TEXT),
    ],
)
def test_the_format_is_guessed_from_the_first_line(
    first_line: bytes, expected: InputFormat
) -> None:
    assert guess_format(first_line) is expected


def test_count_records_counts_non_blank_lines_less_the_csv_header() -> None:
    assert count_records(lines("a\n\nb\nc\n"), InputFormat.TEXT) == 3
    assert count_records(lines("user_id\na\n\nb\n"), InputFormat.CSV) == 2
    assert count_records([], InputFormat.CSV) == 0


def test_records_are_read_lazily() -> None:
    def endless() -> Iterator[bytes]:
        number = 0
        while True:
            number += 1
            yield f"user-{number}\n".encode()

    records = read_records(endless(), InputFormat.TEXT)

    assert [next(records).line for _ in range(3)] == [1, 2, 3]
