"""The conflict panel's line diff (interviews/answer_diff.py)."""

from interviews.answer_diff import DiffLine, compare_lines


def shown(lines: list[DiffLine]) -> list[str]:
    """A side as short strings: "=text" same, "!text" changed, "~" filler, "…N" gap."""
    marks = {"same": "=", "changed": "!", "filler": "~"}
    return [f"…{line.folded}" if line.kind == "gap" else marks[line.kind] + line.text
            for line in lines]


def test_a_changed_line_deep_in_a_long_answer_comes_first_with_its_context():
    lines = [f"line {n}" for n in range(1, 31)]
    theirs = lines[:24] + ["line 25, edited in the other tab"] + lines[25:]
    diff = compare_lines("\n".join(lines), "\n".join(theirs))
    assert shown(diff.mine) == ["…22", "=line 23", "=line 24", "!line 25", "=line 26",
                                "=line 27", "…3"]
    assert shown(diff.theirs) == ["…22", "=line 23", "=line 24",
                                  "!line 25, edited in the other tab", "=line 26", "=line 27",
                                  "…3"]
    assert (diff.differing, diff.first_line, diff.same) == (1, 25, False)
    assert [line.number for line in diff.mine[1:6]] == [23, 24, 25, 26, 27]


def test_sides_stay_row_aligned_when_one_has_more_lines():
    diff = compare_lines("a\nb\nc", "a\nB1\nB2\nB3\nc")
    assert shown(diff.mine) == ["=a", "!b", "~", "~", "=c"]
    assert shown(diff.theirs) == ["=a", "!B1", "!B2", "!B3", "=c"]
    assert diff.differing == 3


def test_lines_added_at_the_end_or_removed_at_the_start():
    added = compare_lines("one\ntwo", "one\ntwo\nthree")
    assert shown(added.mine) == ["=one", "=two", "~"]
    assert shown(added.theirs) == ["=one", "=two", "!three"]
    assert added.first_line == 3
    removed = compare_lines("zero\none\ntwo", "one\ntwo")
    assert shown(removed.mine) == ["!zero", "=one", "=two"]
    assert shown(removed.theirs) == ["~", "=one", "=two"]
    assert removed.first_line == 1


def test_two_changes_far_apart_keep_a_gap_between_them():
    lines = [str(n) for n in range(1, 21)]
    theirs = ["first"] + lines[1:19] + ["last"]
    diff = compare_lines("\n".join(lines), "\n".join(theirs), context=1)
    assert shown(diff.theirs) == ["!first", "=2", "…16", "=19", "!last"]
    assert diff.differing == 2


def test_identical_texts_are_one_gap_and_empty_ones_nothing():
    same = compare_lines("a\nb\nc", "a\nb\nc")
    assert same.same and same.first_line is None
    assert shown(same.mine) == shown(same.theirs) == ["…3"]
    empty = compare_lines("", "")
    assert empty.same and empty.mine == empty.theirs == []
    first_text = compare_lines("", "now there is text")
    assert shown(first_text.mine) == ["~"] and shown(first_text.theirs) == ["!now there is text"]
