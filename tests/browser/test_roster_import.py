"""A new school reaches a populated one in the browser: the admin `folio create-admin` made uploads the school's
OneRoster export, checks the preview, confirms, follows the job, and finds the teacher, the students, the classes
and a family member linked to their child; then brings in the school's competency framework from a file."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.test_new_school import empty_school, fits_the_screen, phone, sign_in  # noqa: F401 (fixtures)
from tests.roster_sets import zip_of

pytestmark = pytest.mark.browser
MATRIX = Path(__file__).resolve().parent.parent / "data" / "frameworks" / "teaching-standards.matrix"


def test_an_admin_imports_a_oneroster_export_and_finds_the_school_populated(phone, tmp_path):  # noqa: F811
    page = phone
    export = tmp_path / "lincoln-oneroster.zip"
    export.write_bytes(zip_of("v11_lincoln"))
    sign_in(page, "principal", "a strong admin password")
    expect(page).to_have_url(re.compile(r"/admin$"))

    page.goto("/admin/people")
    page.get_by_role("link", name="Import a roster (OneRoster)").click()
    fits_the_screen(page)
    page.get_by_label("OneRoster files").set_input_files(str(export))
    page.get_by_role("button", name="Preview the import").click()

    expect(page.locator("main h1")).to_have_text("Check the roster import")
    people = page.get_by_role("row", name=re.compile(r"^People"))
    expect(people).to_contain_text("4")
    expect(page.get_by_text("Jordan Lee · jlee · Teacher")).to_be_visible()
    problems = page.get_by_role("region", name="Rows that can't be used")
    expect(problems.get_by_role("row", name=re.compile(r"users\.csv 6 .*proctor"))).to_be_visible()
    fits_the_screen(page)
    page.get_by_role("button", name="Import the roster").click()

    expect(page).to_have_url(re.compile(r"/jobs/\d+$"))
    expect(page.get_by_text("Ready", exact=True)).to_be_visible(timeout=30_000)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download").first.click()
    links = download.value.path().read_text(encoding="utf-8-sig")
    assert links.count("/setup/") == 4 and "jlee" in links

    page.goto("/admin/classes")
    row = page.get_by_role("row", name=re.compile("Math 7 - Period 3"))
    expect(row).to_contain_text("Jordan Lee")
    fits_the_screen(page)

    page.goto("/admin/people?role=student")
    expect(page.get_by_role("link", name="Avery Smith", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Blake Jones", exact=True)).to_be_visible()
    page.get_by_role("link", name="Family access for Avery Smith").click()
    expect(page.get_by_role("button", name="Remove Casey Smith")).to_be_visible()
    fits_the_screen(page)

    page.goto("/admin/frameworks")
    page.get_by_role("link", name="Import a framework").click()
    page.get_by_label("Framework file").set_input_files(str(MATRIX))
    page.get_by_role("button", name="Preview the import").click()
    expect(page.get_by_text("8 competencies to add")).to_be_visible()
    fits_the_screen(page)
    page.get_by_role("button", name="Import “Ngā Paerewa: Teaching Standards”").click()
    expect(page).to_have_url(re.compile(r"/admin/frameworks/\d+$"))
    expect(page.get_by_role("cell", name=re.compile("1.2.2 Pronounce ākonga names correctly"))).to_be_visible()
