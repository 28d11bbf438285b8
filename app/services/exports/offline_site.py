"""The offline website inside the portable archive: plain HTML pages a student opens from the file system.

`write_site` writes one page per artefact, reflection, goal and showcase, a competencies page, a credentials page
(each credential with its signed JSON file beside it) and a contents page
into an open ZIP, under `prefix` ("site/"). Everything links relatively (file:// has no server and no root), nothing
loads from another host, and no JavaScript is needed. Everything is loaded up front in a fixed number of queries
(app.services.exports.offline_loading), the files beside the pages are written (offline_assets), then each page is
rendered and written to the archive as it goes.

Decisions: the archive is the student's own, so drafts are included and marked "Draft"; a showcase's talking points
(the student's presenting notes) are kept under their item.
"""

from __future__ import annotations

import posixpath
import zipfile
from collections.abc import Callable
from urllib.parse import quote
from zoneinfo import ZoneInfo

from jinja2 import Environment
from sqlmodel import Session

from app.config import Settings
from app.i18n import _, get_locale
from app.models import ItemType, User
from app.models.base import utcnow
from app.services.competencies.charts import growth_chart_svg
from app.services.competencies.ratings import growth_series
from app.services.exports.offline_assets import write_assets, write_credential_files
from app.services.exports.offline_loading import load_portfolio

PROGRESS_EVERY = 20

Progress = Callable[[int, int, str], None]


def _environment(settings: Settings) -> Environment:
    from app.templating import environment_for

    return environment_for(settings)


class _Writer:
    """Renders pages into the archive, each with links relative to where the page sits."""

    def __init__(self, *, archive: zipfile.ZipFile, prefix: str, env: Environment, base: dict, total: int,
                 progress: Progress | None):
        self.archive, self.prefix, self.env, self.base = archive, prefix, env, base
        self.total, self.progress, self.pages = total, progress, 0

    def page(self, name: str, template: str, **context) -> None:
        here = posixpath.dirname(self.prefix + name) or "."

        def site(target: str) -> str:
            """A link to a site page or asset ("goals/goal-3.html#x", "style.css"), relative to this page."""
            path, _hash, fragment = target.partition("#")
            rel = posixpath.relpath(self.prefix + path, here)
            return rel + (f"#{fragment}" if fragment else "")

        def archived(target: str) -> str:
            """A link to a file anywhere in the archive (archive-relative path), relative to this page."""
            return quote(posixpath.relpath(target, here), safe="/")

        html = self.env.get_template(template).render(**self.base, **context, site=site, archived=archived)
        self.archive.writestr(self.prefix + name, html)
        self.pages += 1
        if self.progress is not None and (self.pages % PROGRESS_EVERY == 0 or self.pages == self.total):
            self.progress(self.pages, self.total, _("Writing the offline website"))


def write_site(
    *, session: Session, settings: Settings, student: User, archive: zipfile.ZipFile, prefix: str = "site/",
    file_paths: dict[int, str] | None = None, credentials_written: bool = False, progress: Progress | None = None,
) -> int:
    """Write `student`'s portfolio as a static website into `archive` under `prefix`; the number of pages written.

    `file_paths` maps artefact ids to the archive paths of their originals (written by the caller); without it the
    site copies the originals into `<prefix>files/`. With `credentials_written`, the caller put each credential's
    JSON at its archive path (export_credentials.archive_path); without, the site writes them under `<prefix>`.
    Open `<prefix>index.html` from the file system to read it."""
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    portfolio = load_portfolio(session=session, settings=settings, student=student, prefix=prefix, file_paths=file_paths)
    for competency in portfolio.competencies:
        if competency.history:
            competency.chart = growth_chart_svg(
                levels=competency.levels, series=growth_series(competency.history),
                chart_id=f"growth-{competency.competency.id}",
                title=_("Ratings in %(code)s %(name)s over time", code=competency.competency.code,
                        name=competency.competency.name),
            )

    try:
        zone = ZoneInfo(settings.timezone)
    except (KeyError, ValueError):
        zone = None
    exported = utcnow().astimezone(zone) if zone else utcnow()
    base = {
        "lang": get_locale().replace("_", "-"),
        "student": student,
        "school": portfolio.school,
        "exported": exported,
        "threads": portfolio.threads,
        "artefact_by_id": {view.artefact.id: view for view in portfolio.artefacts},
        "item_types": ItemType,
        # The shared environment's markdown filter keeps, here, only the links that work from the file system.
        "offline_site": True,
    }
    total = 3 + len(portfolio.artefacts) + len(portfolio.reflections) + len(portfolio.goals) + len(portfolio.showcases)
    writer = _Writer(archive=archive, prefix=prefix, env=_environment(settings), base=base, total=total, progress=progress)

    write_assets(archive, settings=settings, prefix=prefix, copies=portfolio.copies)

    writer.page("index.html", "offline/index.html", portfolio=portfolio)
    for view in portfolio.artefacts:
        writer.page(view.page, "offline/artefact.html", view=view)
    for view in portfolio.reflections:
        writer.page(view.page, "offline/reflection.html", view=view)
    for view in portfolio.goals:
        writer.page(view.page, "offline/goal.html", view=view)
    writer.page("competencies.html", "offline/competencies.html", competencies=portfolio.competencies)
    credential_files = write_credential_files(archive, credentials=portfolio.credentials, prefix=prefix,
                                              written=credentials_written)
    writer.page("credentials.html", "offline/credentials.html", credentials=portfolio.credentials,
                credential_files=credential_files)
    for view in portfolio.showcases:
        writer.page(view.page, "offline/showcase.html", view=view)
    return writer.pages
