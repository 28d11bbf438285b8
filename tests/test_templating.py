"""One Jinja environment per settings: pages, emails, the PDF and the offline site all render through it."""

from datetime import datetime, timezone

from app.services.family.digests import email_environment
from app.templating import environment_for
from tests.conftest import make_settings


def test_the_app_emails_and_exports_share_one_environment(app):
    settings = app.state.settings
    assert app.state.templates is environment_for(settings)
    assert email_environment(settings) is app.state.templates


def test_a_job_without_a_request_writes_dates_in_the_schools_zone(tmp_path):
    settings = make_settings(tmp_path, f"sqlite:///{tmp_path / 'x.db'}", timezone="America/Vancouver")
    template = environment_for(settings).from_string("{{ when|datetime }}")
    # 04:23 UTC on 7 December is the evening before in Vancouver.
    assert template.render(when=datetime(2026, 12, 7, 4, 23, tzinfo=timezone.utc)).startswith("Dec 6, 2026")


def test_markdown_in_the_offline_site_keeps_only_links_that_work_from_files(app):
    template = app.state.templates.from_string("{{ text|markdown }}")
    text = "[my goal](/goals/3) and [a site](https://example.org)"
    online = template.render(text=text)
    offline = template.render(text=text, offline_site=True)
    assert 'href="/goals/3"' in online and 'href="/goals/3"' not in offline
    assert 'href="https://example.org"' in offline
