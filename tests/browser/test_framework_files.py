"""An admin brings in a framework from a Mahara .matrix file in the browser: preview, confirm, then download it as
CASE JSON; every page passes axe."""

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.test_staff_pages import sign_in
from tests.browser.conftest import axe_scan

pytestmark = pytest.mark.browser

MATRIX = Path(__file__).resolve().parent.parent / "data" / "frameworks" / "teaching-standards.matrix"


def test_admin_imports_a_matrix_previews_confirms_and_exports_it(page):
    sign_in(page, "admin")
    page.goto("/admin/frameworks")
    page.get_by_role("link", name="Import a framework").click()
    expect(page.locator("main h1")).to_have_text("Import a framework")
    axe_scan(page)

    page.get_by_role("button", name="Preview the import").click()  # no file: the error sits beside the field
    expect(page.locator("#framework_file-error")).to_contain_text("Choose a CASE package")
    axe_scan(page)

    page.get_by_label("Framework file").set_input_files(str(MATRIX))
    page.get_by_role("button", name="Preview the import").click()
    expect(page.locator("main h1")).to_have_text("Check the import")
    expect(page.get_by_text("8 competencies to add")).to_be_visible()
    expect(page.get_by_role("listitem").filter(has_text="Not yet meeting the standard")).to_be_visible()
    axe_scan(page)

    page.get_by_role("button", name="Import “Ngā Paerewa: Teaching Standards”").click()
    expect(page).to_have_url(re.compile(r"/admin/frameworks/\d+$"))
    expect(page.locator("main h1")).to_contain_text("Ngā Paerewa: Teaching Standards")
    expect(page.get_by_role("cell", name=re.compile("1.2.2 Pronounce ākonga names correctly"))).to_be_visible()
    axe_scan(page)

    page.locator("main .page-header summary", has_text="More").click()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download as CASE JSON").click()
    package = json.loads(Path(download_info.value.path()).read_text())
    assert package["CFDocument"]["title"] == "Ngā Paerewa: Teaching Standards"
    assert len(package["CFItems"]) == 8
