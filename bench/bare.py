"""The anchors for bench/pages.py: what uvicorn serves with no database and no framework.

`/page` renders a Jinja page shaped like Folio's student home (a header with navigation, a filter form with
option lists, a timeline of `ITEMS` entries, a side column), from an in-memory template with autoescaping, the
same trim settings and gettext installed, so it costs what the template engine costs and nothing else.
`/plaintext` answers "ok" (the anchor for /healthz). A plain ASGI callable, no Starlette routing.

    .venv/bin/python -m uvicorn --factory bench.bare:create_app --port 8001
"""

from __future__ import annotations

import gettext
from datetime import date, timedelta

from jinja2 import DictLoader, Environment, select_autoescape

ITEMS = 20

PAGE = """<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="htmx-config" content='{"includeIndicatorStyles": false, "allowEval": false, "allowScriptTags": false}'>
  <title>{{ _("Home") }} · Folio</title>
  <link rel="icon" href="/static/img/favicon.svg?v=0a89d77ff6" type="image/svg+xml">
  {% for sheet in stylesheets %}<link rel="stylesheet" href="/static/css/{{ sheet }}.css?v=8fcaeee17a">
  {% endfor %}<script src="/static/js/htmx.min.js?v=d6fdc75f20" defer></script>
</head>
<body>
  <a class="skip-link" href="#main">{{ _("Skip to main content") }}</a>
  <header class="site-header"><div class="site-header__inner">
    <a class="brand" href="/"><img src="/static/img/favicon.svg?v=0a89d77ff6" alt="" width="28" height="28"><span>Folio</span></a>
    <nav class="site-nav" aria-label="{{ _('Main') }}"><ul>
    {% for link in nav %}<li><a href="{{ link.href }}"{% if link.current %} aria-current="page"{% endif %}>{{ _(link.label) }}</a></li>
    {% endfor %}</ul>
    <div class="site-nav__user"><a href="/notifications" class="notification-link" hx-get="/notifications/count" hx-trigger="every 60s">
      {{ _("Notifications") }} <span class="notification-count">{{ unread }}<span class="visually-hidden"> {{ _("unread") }}</span></span></a>
      <span class="site-nav__name">{{ user.name }}</span>
      <form method="post" action="/logout"><button type="submit" class="button button--quiet">{{ _("Sign out") }}</button></form>
    </div></nav>
  </div></header>
  <main id="main">
<div class="page-intro page-header"><h1>{{ _("Hello, %(name)s", name=user.name) }}</h1>
  <div class="actions"><a class="button button--primary" href="/artefacts/new">{{ _("Add evidence") }}</a>
  <a class="button" href="/reflections/new">{{ _("Reflect") }}</a> <a class="button" href="/goals/new">{{ _("New goal") }}</a></div>
</div>
<div class="home-grid"><section class="home-grid__main" aria-labelledby="timeline-heading">
<h2 id="timeline-heading">{{ _("Your timeline") }}</h2>
<form method="get" action="/student" role="search" class="timeline-filters" hx-get="/student" hx-target="#timeline">
  <div class="field"><label for="q">{{ _("Search your portfolio") }}</label><input type="search" id="q" name="q" value="{{ q }}"></div>
  <details class="timeline-filters__more"><summary>{{ _("Filters") }}</summary><div class="filter-grid">
  <div class="field"><label for="kind">{{ _("Kind") }}</label><select id="kind" name="kind"><option value="">{{ _("Everything") }}</option>
  {% for value in kinds %}<option value="{{ value }}"{% if value == kind %} selected{% endif %}>{{ _(value) }}</option>{% endfor %}</select></div>
  <div class="field"><label for="competency">{{ _("Competency") }}</label><select id="competency" name="competency">
  {% for group in groups %}<optgroup label="{{ group.name }}">
  {% for option in group.options %}<option value="{{ option.id }}">{{ option.code }} {{ option.name }}</option>{% endfor %}
  </optgroup>{% endfor %}</select></div>
  <div class="field"><label for="tag">{{ _("Tag") }}</label><select id="tag" name="tag">
  {% for tag in tags %}<option value="{{ tag }}">#{{ tag }}</option>{% endfor %}</select></div>
  <div class="field"><label for="date_from">{{ _("From") }}</label><input type="date" id="date_from" name="date_from" value=""></div>
  </div></details>
  <div class="actions"><button type="submit" class="button">{{ _("Search") }}</button></div>
</form>
<div id="timeline"><ol class="timeline">
{% for item in items %}
<li class="timeline__item timeline__item--{{ item.type }}">
  <article class="card timeline-card">
    {% if item.thumbnail %}<img class="timeline-card__thumb" src="{{ item.thumbnail }}" alt="" width="120" height="90" loading="lazy">{% endif %}
    <div class="timeline-card__body">
      <p class="timeline-card__kind">{{ _(item.kind) }}</p>
      <h3 class="timeline-card__title"><a href="/{{ item.type }}s/{{ item.id }}">{{ item.title }}</a></h3>
      <p class="timeline-card__excerpt">{{ item.excerpt }}</p>
      <p class="muted timeline-card__meta"><time datetime="{{ item.day.isoformat() }}">{{ item.day.strftime("%b %d, %Y") }}</time> · {{ _(item.audience) }}</p>
    </div>
  </article>
</li>
{% endfor %}
</ol>
<nav class="pagination" aria-label="{{ _('Pages') }}"><a href="/student?page=2" rel="next">{{ _("Older") }}</a></nav></div>
</section>
<aside class="home-grid__side" aria-label="{{ _('At a glance') }}">
  <section class="card" aria-labelledby="goals-heading"><h2 id="goals-heading">{{ _("Active goals") }}</h2><ul class="plain stack-s">
  {% for goal in goals %}<li><a href="/goals/{{ goal.id }}">{{ goal.title }}</a><div class="progress-line">
    <progress max="{{ goal.total }}" value="{{ goal.done }}" aria-label="{{ _('Progress on %(title)s', title=goal.title) }}"></progress>
    <span class="muted">{{ _("%(done)s of %(total)s steps", done=goal.done, total=goal.total) }}</span></div></li>
  {% endfor %}</ul></section>
  <section class="card" aria-labelledby="competencies-heading"><h2 id="competencies-heading">{{ _("Competencies") }}</h2><ul class="plain stack-s">
  {% for c in levels %}<li><a href="/competencies/{{ c.id }}"><code>{{ c.code }}</code> {{ c.name }}</a> <span class="level-badge">{{ _(c.level) }}</span></li>
  {% endfor %}</ul></section>
  <section class="card" aria-labelledby="feedback-heading"><h2 id="feedback-heading">{{ _("Recent feedback") }}</h2>
  <p class="muted">{{ _("When your teachers, classmates or family comment on your work, it shows up here.") }}</p></section>
  <section class="card" aria-labelledby="classes-heading"><h2 id="classes-heading">{{ _("Your classes") }}</h2><ul class="plain">
  {% for c in classes %}<li>{{ c.name }} <span class="muted">· {{ c.teachers|join(", ") }}</span></li>{% endfor %}</ul>
  <p><a href="/classes/join">{{ _("Join a class with a code") }}</a></p></section>
</aside></div>
  </main>
  <footer class="site-footer"><p>{{ _("Folio keeps your learning on your school's own server. Nothing is shared without your say.") }}</p>
    <form method="post" action="/language" class="language-switcher"><input type="hidden" name="next" value="/student">
      <label for="language-switcher">{{ _("Language") }}</label><select id="language-switcher" name="locale">
      {% for code, name in languages %}<option value="{{ code }}" lang="{{ code }}">{{ name }}</option>{% endfor %}</select>
      <button type="submit" class="button button--quiet">{{ _("Change") }}</button></form>
  </footer>
</body>
</html>
"""


def _context() -> dict:
    today = date.today()
    kinds = ["file", "note", "link", "reflection", "goal"]
    items = [
        {"id": 100 + i, "type": ("artefact", "reflection", "goal")[i % 3], "kind": kinds[i % 5],
         "audience": ("private", "class", "family")[i % 3], "day": today - timedelta(days=3 * i),
         "title": f"Volcano model, week {i} <draft>",
         "thumbnail": f"/files/{100 + i}/small" if i % 5 == 0 else None,
         "excerpt": ("We mixed baking soda and vinegar to show how pressure builds under the crust, and then "
                     "we measured how far the foam travelled each time we changed the amount…")}
        for i in range(ITEMS)
    ]
    groups = [{"name": f"Framework {g}", "options": [{"id": g * 10 + o, "code": f"C{g}.{o}", "name": f"Competency {o}"}
                                                     for o in range(6)]} for g in range(3)]
    return {
        "stylesheets": ["app", "family", "showcases", "conferences", "exports"],
        "nav": [{"href": f"/section-{n}", "label": label, "current": n == 0} for n, label in enumerate(
            ["Home", "Evidence", "Reflections", "Goals", "Competencies", "Showcases", "Export", "Account"])],
        "user": {"name": "Maya Chen"}, "unread": 3, "q": "", "kind": "", "kinds": kinds, "groups": groups,
        "tags": ["science", "project", "reading", "art"], "items": items,
        "goals": [{"id": g, "title": f"Read {g + 3} chapter books", "total": 4, "done": g % 4} for g in range(2)],
        "levels": [{"id": c, "code": f"COM.{c}", "name": "Communicating", "level": "Proficient"} for c in range(4)],
        "classes": [{"name": "Grade 5 Maple", "teachers": ["Priya Shah"]}],
        "languages": [("en", "English"), ("es", "Español"), ("fr", "Français")],
    }


def create_app():
    """The bare ASGI app (for `uvicorn --factory bench.bare:create_app`)."""
    env = Environment(loader=DictLoader({"page.html": PAGE}), autoescape=select_autoescape(["html"]),
                      extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True, auto_reload=False)
    env.install_gettext_translations(gettext.NullTranslations(), newstyle=True)
    template = env.get_template("page.html")
    context = _context()

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        path = scope["path"]
        if path == "/page":
            body = template.render(context).encode()
            content_type = b"text/html; charset=utf-8"
            status = 200
        elif path == "/plaintext":
            body, content_type, status = b"ok", b"text/plain; charset=utf-8", 200
        else:
            body, content_type, status = b"not found", b"text/plain; charset=utf-8", 404
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})

    return app
