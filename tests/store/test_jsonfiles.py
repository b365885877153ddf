import re

import pytest

from gankit.errors import CheckpointError
from gankit.store.jsonfiles import nesting_depth, parse_json, read_json, read_jsonl


def test_parse_json_names_the_file_for_every_kind_of_bad_content():
    assert parse_json(b'{"a": [1, {"b": 2}]}', "x") == {"a": [1, {"b": 2}]}
    for text, message in [
        (b"\xff\xfe{", "x is not UTF-8 text (byte 0)"),
        (b"{'a': 1}", "x is not JSON"),
        ("[" * 100_000 + "]" * 100_000, "x nests lists or objects more than 64 deep"),  # RecursionError inside json
        ("[" * 65 + "]" * 65, "x nests lists or objects more than 64 deep"),  # parses, but deeper than allowed
    ]:
        with pytest.raises(CheckpointError, match=re.escape(message)):
            parse_json(text, "x")
    assert parse_json("[" * 64 + "]" * 64, "x") is not None
    assert nesting_depth({"a": [[1], {}]}) == 3 and nesting_depth(5) == 0


def test_read_json_of_an_unreadable_path(tmp_path):
    with pytest.raises(CheckpointError, match="cannot read"):
        read_json(tmp_path)  # a folder


def test_read_jsonl_sorts_records_bad_lines_and_a_torn_last_line(tmp_path):
    path = tmp_path / "metrics.jsonl"
    assert read_jsonl(path).records == []
    path.write_bytes(
        b'{"step": 1, "d_loss": NaN}\n\n[1, 2]\n\xff\n{"loss": 3}\n{"step": 1e3}\n{"step": 2, "n": 1e999999}\n'
        b'{"step": 3, "n": 100000000000000000000}\n{"step": 4}\n{"step": 5, "d_lo'
    )
    lines = read_jsonl(path)
    assert [r["step"] for r in lines.records] == [1, 2, 4]  # NaN and inf (1e999999) are kept: a diverged run's
    assert lines.texts[-1] == '{"step": 4}'
    assert [n for n, _ in lines.bad] == [3, 4, 5, 6, 8]
    assert "not an object" in lines.bad[0][1] and "not UTF-8" in lines.bad[1][1]
    assert "integer 'step'" in lines.bad[2][1] and "too large" in lines.bad[4][1]
    assert lines.torn == '{"step": 5, "d_lo'
    path.write_text('{"step": 1}\n{"step": 2}')  # a complete last line without its newline is a record
    assert [r["step"] for r in read_jsonl(path).records] == [1, 2] and read_jsonl(path).torn is None
