"""The compact string tables of the linking KB."""
import numpy as np
import pytest
import srsly

from spacy_biobert.linking.tables import KeyedLists, StringIndex, StringTable

WORDS = ["tnf\u2011\u03b1", "", "lithium", "\u03b1-tocopherol", "Li", "famotidine", "li"]


def test_string_table_keeps_order_and_unicode() -> None:
    table = StringTable.from_strings(WORDS)
    assert len(table) == len(WORDS) and list(table) == WORDS
    assert table[-1] == "li" and table[3] == "\u03b1-tocopherol"
    with pytest.raises(IndexError):
        table[len(WORDS)]
    again = StringTable.from_dict(srsly.msgpack_loads(srsly.msgpack_dumps(table.to_dict())))
    assert list(again) == WORDS
    assert list(StringTable.from_dict(WORDS)) == WORDS  # the lists of format 1
    assert len(StringTable.from_strings([])) == 0


def test_string_index_finds_every_string_of_an_unsorted_table() -> None:
    index = StringIndex.build(StringTable.from_strings(WORDS))
    assert [index.find(w) for w in WORDS] == list(range(len(WORDS)))
    assert index.find("lithiu") == -1 and index.find("zzz") == -1 and index.find("LI") == -1
    assert "Li" in index and "LI" not in index and 3 not in index
    assert StringIndex.build(StringTable.from_strings([])).find("x") == -1
    # a sorted table needs no order array
    ordered = sorted(w for w in WORDS if w)
    sorted_index = StringIndex(StringTable.from_strings(ordered))
    assert [sorted_index.find(w) for w in ordered] == list(range(len(ordered)))


def test_keyed_lists_round_trip() -> None:
    lists = KeyedLists.pack({"lithium": [3, 1], "li": [1], "\u03b1-tocopherol": [7], "x": []})
    assert lists.get("lithium") == [3, 1] and lists.get("li") == [1]
    assert lists.get("\u03b1-tocopherol") == [7] and lists.get("x") == []
    assert lists.get("absent") == [] and "li" in lists and "absent" not in lists
    again = KeyedLists.from_dict(srsly.msgpack_loads(srsly.msgpack_dumps(lists.to_dict())))
    assert len(again) == 4 and again.get("lithium") == [3, 1]
    assert again.values.dtype == np.int32
