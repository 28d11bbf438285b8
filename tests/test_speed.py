"""Work a page no longer repeats on every view: excerpts parsed once, and their cache kept small."""

from app.services.portfolio import markdown


def test_an_excerpt_is_parsed_once_and_the_same_text_gives_the_same_excerpt(monkeypatch):
    parsed: list[str] = []
    real = markdown._plain_text
    monkeypatch.setattr(markdown, "_plain_text", lambda text, limit: parsed.append(text) or real(text, limit))
    text = "We mixed **baking soda** and vinegar: <the> pressure builds. " * 10
    first = markdown.plain_text(text, 180)
    assert markdown.plain_text(text, 180) == first
    assert first.startswith("We mixed baking soda and vinegar: <the> pressure") and first.endswith("…")
    assert len(first) <= 180
    assert parsed == [text]
    assert markdown.plain_text(text, 60) != first  # the limit is part of what is cached
    assert markdown.plain_text(text + " Then it erupted.", 180) == first  # same first 180 characters, new text
    assert len(parsed) == 3


def test_the_excerpt_cache_stays_bounded(monkeypatch):
    monkeypatch.setattr(markdown, "_EXCERPTS", {})
    monkeypatch.setattr(markdown, "_EXCERPTS_MAX", 50)
    for n in range(175):
        assert markdown.plain_text(f"Note number {n}", 100) == f"Note number {n}"
    assert 0 < len(markdown._EXCERPTS) <= 50
