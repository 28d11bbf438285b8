"""Environments built after the first load compiled templates from one shared cache (tests/template_memo.py): the
code they run is the code an environment compiling for itself runs, and a changed template is compiled afresh."""

from __future__ import annotations

import app.templating
from tests import template_memo


def test_a_shared_template_runs_the_code_its_own_compilation_would():
    first, second = app.templating.build_environment(), app.templating.build_environment()
    template_memo.compile_afresh()
    try:
        afresh = app.templating.build_environment()
    finally:
        template_memo.share_compiled_templates()
    assert afresh.bytecode_cache is None and second.bytecode_cache is template_memo.SHARED
    names = [name for name in afresh.list_templates() if name.endswith(".html")]
    assert len(names) > 20
    for name in names:
        first.get_template(name)
    loaded = template_memo.SHARED.loaded
    for name in names:
        own, shared = afresh.get_template(name), second.get_template(name)
        for block in ("root", *own.blocks):
            mine = own.root_render_func if block == "root" else own.blocks[block]
            theirs = shared.root_render_func if block == "root" else shared.blocks[block]
            assert mine.__code__.co_code == theirs.__code__.co_code, (name, block)
    assert template_memo.SHARED.loaded - loaded == len(names)  # the second environment compiled none itself


def test_a_changed_template_is_compiled_again(tmp_path):
    page = tmp_path / "page.html"
    page.write_text("one {{ 1 + 1 }}")
    assert app.templating.build_environment(tmp_path).get_template("page.html").render() == "one 2"
    page.write_text("two {{ 2 + 2 }}")
    assert app.templating.build_environment(tmp_path).get_template("page.html").render() == "two 4"
