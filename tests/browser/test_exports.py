"""Issue 6 in a real browser: a student exports a showcase to PDF, watches its progress, downloads it, and downloads
the whole portfolio as an archive. Every page gets an axe scan."""

import io
import re
import zipfile

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from tests.browser.conftest import axe_scan, follow
from tests.browser.test_feedback_loop import sign_in

pytestmark = pytest.mark.browser


def test_student_exports_a_showcase_pdf_and_the_archive(browser, live_server, tmp_path):
    context, page, problems = sign_in(browser, live_server, "student")
    page.get_by_role("link", name="Export").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Export your portfolio")
    axe_scan(page)

    page.get_by_role("button", name=re.compile(r"^PDF of this showcase\s*: My term so far$")).click()
    expect(page).to_have_url(re.compile(r"/jobs/\d+$"))
    axe_scan(page)  # the progress page, while the job is queued or running
    download_link = page.get_by_role("link", name="Download")
    expect(download_link).to_be_visible(timeout=60_000)  # HTMX polls the progress until the PDF is ready
    axe_scan(page)
    with page.expect_download() as info:
        download_link.click()
    pdf_path = tmp_path / "showcase.pdf"
    info.value.save_as(pdf_path)
    reader = PdfReader(pdf_path)
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert "My term so far" in text and "Volcano cross-section poster" in text
    assert "/StructTreeRoot" in reader.trailer["/Root"]

    page.goto("/exports")
    page.get_by_role("button", name="Download everything").click()
    download_link = page.get_by_role("link", name="Download")
    expect(download_link).to_be_visible(timeout=120_000)
    with page.expect_download() as info:
        download_link.click()
    archive = zipfile.ZipFile(io.BytesIO(info.value.path().read_bytes()))
    names = set(archive.namelist())
    assert {"index.html", "portfolio.json", "leap2a.xml", "site/index.html"} <= names
    assert any(name.startswith("files/") for name in names)

    # The offline website works from the file system, and is as accessible as the app.
    site = tmp_path / "archive"
    archive.extractall(site)
    offline = context.new_page()
    offline.goto((site / "index.html").as_uri())  # forwards to site/index.html
    expect(offline.get_by_role("heading", level=1)).to_contain_text("Maya Chen")
    expect(offline).to_have_url(re.compile(r"/site/index\.html$"))
    axe_scan(offline)
    offline.get_by_role("link", name="Volcano cross-section poster").first.click()
    expect(offline.get_by_role("img").first).to_be_visible()
    axe_scan(offline)
    offline.close()

    page.goto("/exports")
    follow(page.get_by_role("link", name="Bring in a portfolio from another Folio or from Mahara"))
    axe_scan(page)
    context.close()
    assert problems == []

    # Ms Shah's conference-night PDFs for the whole class.
    context, page, problems = sign_in(browser, live_server, "teacher")
    page.get_by_role("link", name="Grade 5 Maple").first.click()
    page.locator("main summary", has_text="More").click()
    follow(page.get_by_role("link", name="PDFs for conference night"))
    axe_scan(page)
    context.close()
    assert problems == []


def test_presenting_and_exporting_work_without_javascript(browser, live_server):
    from tests.browser.test_shell import sign_in as sign_in_page

    context = browser.new_context(base_url=live_server, java_script_enabled=False)
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in_page(page, "student")
    page.goto("/showcases")
    page.get_by_role("link", name="My term so far").click()
    page.get_by_role("link", name="Present", exact=True).click()
    # Every slide is there as a section, and Next is a plain link to the next one.
    expect(page.locator("[data-slide]")).to_have_count(7)
    page.locator("#slide-1").get_by_role("link", name="Next").click()
    expect(page).to_have_url(re.compile(r"#slide-2$"))

    # The progress page refreshes itself (a <noscript> refresh) until the download is there.
    page.goto("/exports")
    page.get_by_role("button", name="Download everything").click()
    expect(page.get_by_role("link", name="Download")).to_be_visible(timeout=60_000)
    context.close()
