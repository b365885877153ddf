"""benchmarks/md.py: the Markdown every benchmark script writes, to the byte."""

import pytest

from benchmarks import md


def test_a_row_pads_every_cell_and_a_header_leaves_a_blank_corner_one_space():
    assert md.row(["a", 1, 2.5, None]) == "| a | 1 | 2.5 | None |"
    assert md.row(["x", "", "y"]) == "| x |  | y |"  # a missing value
    assert md.header_row(["", "count"]) == "| | count |"
    assert md.header_row(["recipe", 1]) == "| recipe | 1 |"


def test_a_rule_aligns_each_column_left_or_right():
    assert md.rule("lrr") == "|---|---:|---:|"
    assert md.rule("") == "|"
    with pytest.raises(ValueError, match="l \\(left\\) or r \\(right\\)"):
        md.rule("lc")


def test_a_table_is_its_header_rule_and_rows():
    rows = [["gan", 1, "0.50 ± 0.01"], ["wgan", 12, ""]]
    assert md.table(["", "seeds", "FID"], "lrr", rows) == [
        "| | seeds | FID |",
        "|---|---:|---:|",
        "| gan | 1 | 0.50 ± 0.01 |",
        "| wgan | 12 |  |",
    ]
    assert md.table(["a"], "l") == ["| a |", "|---|"]


def test_a_table_refuses_rows_or_rules_of_another_width():
    with pytest.raises(ValueError, match="a row of 1 cells in a table of 2 columns"):
        md.table(["a", "b"], "lr", [["x"]])
    with pytest.raises(ValueError, match="for 2 columns"):
        md.table(["a", "b"], "l", [])


def test_an_image_and_a_code_block():
    assert md.image("ring8 gan", "results/ring8-gan.png") == "![ring8 gan](results/ring8-gan.png)"
    assert md.code_block("python benchmarks/x.py --steps 2") == ["```bash", "python benchmarks/x.py --steps 2", "```"]
    assert md.code_block("{}", "json") == ["```json", "{}", "```"]


def test_mean_and_spread_over_seeds():
    assert md.mean_spread([1.0, 2.0, 3.0]) == "2.00 ± 1.00"  # s = 1
    assert md.mean_spread([1.0, 2.0, 3.0], 1, standard_error=True) == "2.0 ± 0.6"  # s / √3 = 0.577
    assert md.mean_spread([1234.4, 1234.6], 0) == "1234 ± 0"
    assert md.mean_spread([0.1234], 3) == "0.123"  # one value alone, no spread
    assert md.mean_spread([], 3) == "–"


def test_mean_and_standard_error():
    assert md.mean_se([1.0, 2.0, 3.0], 2) == "2.00 ± 0.58"  # s = 1, s / √3
    assert md.mean_se([4.0], 1) == "4.0"
    assert md.mean_se([], 1) == "–"


def test_mean_and_standard_deviation_always_show_both():
    assert md.mean_sd([1.0, 2.0, 3.0], 3) == "2.000 ± 1.000"
    assert md.mean_sd([4.0], 2) == "4.00 ± 0.00"


def test_a_span_reads_a_b_or_one_value_when_both_ends_read_the_same():
    assert md.span([3, 1, 2]) == "1–3"
    assert md.span([2, 2]) == "2"
    assert md.span([1.234, 1.236], ".2f") == "1.23–1.24"
    assert md.span([1.231, 1.234], ".2f") == "1.23"
    assert md.span(iter([25_600, 1_000]), ",") == "1,000–25,600"


def test_joined_values_mark_a_missing_one():
    assert md.joined([1.0, None, 2.345], ".1f") == "1.0 · – · 2.3"
    assert md.joined([], ".1f") == ""


def test_marked_sections_are_found_whole_and_in_order():
    text = "# T\n<!-- b: begin -->\nB\n<!-- b: end -->\nx\n<!-- a-1: begin -->A<!-- a-1: end -->\n<!-- c: begin -->\n"
    assert md.markers("a-1") == ("<!-- a-1: begin -->", "<!-- a-1: end -->")
    b, a = "<!-- b: begin -->\nB\n<!-- b: end -->", "<!-- a-1: begin -->A<!-- a-1: end -->"
    assert md.marked_sections(text) == [b, a]  # the unclosed section c is none


def test_a_section_is_appended_then_replaced_in_place(tmp_path):
    doc = tmp_path / "docs" / "results.md"  # its folder is made
    md.write_section(doc, "mode-collapse", "first\n\n")
    assert doc.read_text() == "<!-- mode-collapse: begin -->\nfirst\n<!-- mode-collapse: end -->\n"
    doc.write_text("# Results\n\nbody\n\n\n")
    md.write_section(doc, "mode-collapse", "first")
    md.write_section(doc, "pacgan-2d", "table")
    assert doc.read_text() == (
        "# Results\n\nbody\n\n<!-- mode-collapse: begin -->\nfirst\n<!-- mode-collapse: end -->\n\n"
        "<!-- pacgan-2d: begin -->\ntable\n<!-- pacgan-2d: end -->\n"
    )
    md.write_section(doc, "mode-collapse", "second: \\1 $1")  # taken literally, not as a regex replacement
    assert doc.read_text() == (
        "# Results\n\nbody\n\n<!-- mode-collapse: begin -->\nsecond: \\1 $1\n<!-- mode-collapse: end -->\n\n"
        "<!-- pacgan-2d: begin -->\ntable\n<!-- pacgan-2d: end -->\n"
    )
    assert md.marked_sections(doc.read_text())[0] == (
        "<!-- mode-collapse: begin -->\nsecond: \\1 $1\n<!-- mode-collapse: end -->"
    )


def test_a_blank_file_gets_the_section_alone(tmp_path):
    doc = tmp_path / "blank.md"
    doc.write_text("  \n\n")
    md.write_section(doc, "s", "body")
    assert doc.read_text() == "<!-- s: begin -->\nbody\n<!-- s: end -->\n"


def test_a_rewritten_page_keeps_its_marked_sections_and_drops_the_rest(tmp_path):
    doc = tmp_path / "page.md"
    doc.write_text("# old title\n\nold table\n\n<!-- notes: begin -->\nby hand\n<!-- notes: end -->\nstray tail\n")
    md.write_page(doc, "# new title\n\nnew table\n")
    assert doc.read_text() == "# new title\n\nnew table\n\n<!-- notes: begin -->\nby hand\n<!-- notes: end -->\n"
    md.write_page(tmp_path / "fresh.md", "only\n")
    assert (tmp_path / "fresh.md").read_text() == "only\n"
