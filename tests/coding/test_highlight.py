"""Segments and HTML for overlapping highlights."""

from __future__ import annotations

import re

from casestudy.coding.highlight import Mark, segments, to_html


def test_segments_cover_text_and_list_overlaps():
    marks = [Mark(1, 2, 8), Mark(2, 5, 12), Mark(3, 5, 8)]
    result = segments(15, marks)
    assert [(s.start, s.end) for s in result] == [(0, 2), (2, 5), (5, 8), (8, 12), (12, 15)]
    assert [s.marks for s in result] == [(), (1,), (1, 2, 3), (2,), ()]


def test_html_offsets_are_code_points_and_text_is_escaped():
    text = "a😀<b> & ü end"
    html = to_html(text, [Mark(7, 1, 5, label="x<y")])
    offsets = [int(o) for o in re.findall(r'data-o="(\d+)"', html)]
    assert offsets == [0, 1, 5]
    assert "&lt;b&gt;" in html and "<b>" not in html and 'title="x&lt;y"' in html
    # Stripping the tags and unescaping gives the text back exactly.
    import html as htmllib

    assert htmllib.unescape(re.sub(r"<[^>]+>", "", html)) == text


def test_empty_and_out_of_range_marks():
    assert segments(0, []) == []
    assert [(s.start, s.end, s.marks) for s in segments(4, [Mark(1, 2, 99), Mark(2, 3, 3)])] == [(0, 2, ()), (2, 4, (1,))]
