"""Plain text from Markdown comes from the parser's blocks, joined with spaces."""

from digest.text import blocks, markdown_text


def test_blocks_are_joined_with_a_space_never_glued() -> None:
    assert markdown_text("no country siding with it\n\nChina and India") == (
        "no country siding with it China and India"
    )


def test_markup_is_dropped_but_code_keeps_its_characters() -> None:
    text = markdown_text("A *b* [link](http://x.example) `c*d*` ![alt](http://x.example/i.png)")
    assert text == "A b link c*d* alt"


def test_table_cells_and_list_items_are_blocks() -> None:
    source = "- one\n- two\n\n| A | B |\n|---|---|\n| 1 | 2 |\n"
    assert blocks(source) == ["one", "two", "A", "B", "1", "2"]


def test_raw_html_is_text_not_markup() -> None:
    assert blocks("<b>bold</b> word") == ["<b>bold</b> word"]
