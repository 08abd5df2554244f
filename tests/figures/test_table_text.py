"""Table 1 never carries a control character from a run's config into CSV, Markdown or LaTeX."""
from __future__ import annotations

from grokconsole.figures.tables import _display, to_csv, to_latex, to_markdown

CLEAR = "\x1b[2J"


def test_control_characters_are_removed_from_every_format() -> None:
    columns = ["run_id", "condition", f"lr{CLEAR}"]
    rows = [{"run_id": f"r1{CLEAR}", "condition": "grok\x07\nking", f"lr{CLEAR}": "1e-3\r"}]
    header, body = _display(rows, columns, grouped=False)
    texts = [to_csv(rows, columns), to_markdown(header, body), to_latex(header, body, "t")]
    for text in texts:
        assert "\x1b" not in text and "\x07" not in text and "\r" not in text
        assert "r1[2J" in text and "grok king" in text
    assert texts[0].splitlines()[1] == "r1[2J,grok king,1e-3 "
