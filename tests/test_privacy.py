"""Nothing leaves the school's server: no template, stylesheet or script of ours loads anything from elsewhere."""

import re
from pathlib import Path

import pytest

from app.services.portfolio.markdown import render_markdown

ROOT = Path(__file__).resolve().parent.parent
OURS = sorted([*ROOT.glob("templates/**/*.html"), *ROOT.glob("static/css/*.css"),
               *[p for p in ROOT.glob("static/js/*.js") if not p.name.startswith("htmx-")]])
REMOTE_LOAD = re.compile(
    r"""(?:\b(?:src|href|action|poster|data)\s*=\s*["']?\s*(?:https?:)?//)"""  # attributes that load or post
    r"""|(?:url\(\s*["']?(?:https?:)?//)"""  # CSS url(...)
    r"""|(?:@import\s+["']?(?:url\()?\s*["']?(?:https?:)?//)"""  # CSS @import
    r"""|(?:\b(?:fetch|open)\(\s*["'](?:https?:)?//)""",  # scripts calling out
    re.IGNORECASE,
)


def test_there_are_files_to_check():
    assert len(OURS) > 40


@pytest.mark.parametrize("path", OURS, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_remote_loads(path):
    text = path.read_text()
    found = [m.group(0) for m in REMOTE_LOAD.finditer(text)]
    assert found == [], f"{path.relative_to(ROOT)} loads from another host: {found}"


def test_the_check_catches_what_it_should():
    for sample in ('<img src="https://cdn.example/x.png">', '<link href="//fonts.example/f.css">',
                   "body { background: url('https://x.example/a.png') }", '@import url("https://a.example/b.css");',
                   'fetch("https://analytics.example/p")'):
        assert REMOTE_LOAD.search(sample), sample


def test_student_markdown_cannot_load_remote_images_or_run_scripts():
    html = str(render_markdown("![tracker](https://evil.example/pixel.png) <img src=https://evil.example/x> "
                               "<script>fetch('https://evil.example')</script> [ok](https://example.org)"))
    assert "<img" not in html and "<script" not in html
    assert 'href="https://example.org"' in html  # a link is only followed when clicked
