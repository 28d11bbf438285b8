"""The student's home timeline: newest first, filters, search on both databases, constant queries."""

from datetime import date, timedelta

import pytest

from app.models import Audience
from tests.factories import login, make_class, make_framework, make_note, make_reflection, make_school, make_user


def test_timeline_lists_items_newest_first_with_pagination(client, session):
    student = make_user(session, make_school(session))
    for day in range(25):
        make_note(session, student, title=f"Note {day:02d}", occurred_on=date(2026, 1, 1) + timedelta(days=day))
    login(client, student)
    first = client.get("/student").text
    assert first.index("Note 24") < first.index("Note 23")
    assert "Note 04" not in first and "Page 1 of 2" in first
    second = client.get("/student?page=2").text
    assert "Note 04" in second and "Note 24" not in second


def test_search_finds_a_word_from_a_reflection_body_and_ranks_titles_first(client, session):
    student = make_user(session, make_school(session))
    make_reflection(session, student, title="Week three", body="Today I understood photosynthesis at last.")
    make_note(session, student, title="Photosynthesis poster", body="Leaves and light")
    make_note(session, student, title="Fractions", body="Halves and quarters")
    login(client, student)
    page = client.get("/student?q=photosynth").text  # a prefix finds the whole word
    assert "2 results for “photosynth”" in page
    assert page.index("Photosynthesis poster") < page.index("Week three")
    assert "Fractions" not in page
    assert "1 result for “quarters”" in client.get("/student?q=quarters").text
    nothing = client.get("/student?q=volcano").text
    assert "Nothing matches" in nothing
    # Operators and punctuation are treated as words, never as query syntax.
    assert client.get('/student?q="photo* OR) NEAR(').status_code == 200


def test_search_ignores_accents_both_ways_on_both_databases(client, session):
    student = make_user(session, make_school(session))
    make_note(session, student, title="Café visit", body="We wrote the menu")
    make_reflection(session, student, title="Cafe maths", body="Prices at the crème brûlée stand")
    make_note(session, student, title="Élan", body="Dance practice")
    make_note(session, student, title="Fractions", body="Halves")
    login(client, student)

    def found(q: str) -> set[str]:
        html = client.get("/student", params={"q": q}).text
        return {t for t in ("Café visit", "Cafe maths", "Élan", "Fractions") if t in html}

    assert found("cafe") == {"Café visit", "Cafe maths"}
    assert found("café") == {"Café visit", "Cafe maths"}
    assert found("CAFÉ") == {"Café visit", "Cafe maths"}
    assert found("creme brulee") == {"Cafe maths"}  # body text, every word must match
    assert found("elan") == {"Élan"}
    assert found("ela") == {"Élan"}  # still a prefix search
    assert found("caf menu") == {"Café visit"}
    # Words unaccent turns into several (½ becomes "1/2") are still words, not query syntax.
    assert client.get("/student", params={"q": "½ ©"}).status_code == 200


def test_accent_free_search_still_ranks_titles_over_bodies(client, session):
    student = make_user(session, make_school(session))
    make_note(session, student, title="Menu", body="Notes from the café on Friday", occurred_on=date(2026, 5, 2))
    make_note(session, student, title="Café poster", body="Drawn in class", occurred_on=date(2026, 5, 1))
    login(client, student)
    page = client.get("/student?q=cafe").text
    assert "2 results for “cafe”" in page
    assert page.index("Café poster") < page.index("Menu")


def test_search_never_shows_another_students_items(client, session):
    school = make_school(session)
    student, other = make_user(session, school), make_user(session, school)
    make_reflection(session, other, title="Secret", body="photosynthesis diary", audience=Audience.class_)
    login(client, student)
    assert "Secret" not in client.get("/student?q=photosynthesis").text


def test_filters_by_kind_competency_tag_audience_and_date(client, session):
    school = make_school(session)
    student = make_user(session, school)
    framework = make_framework(session, school, classes=[make_class(session, school, students=[student])])
    com = next(c for c in framework.competencies if c.code == "COM")
    make_note(session, student, title="Speech notes", competency_ids=[com.id], tags=["debate"],
              audience=Audience.family, occurred_on=date(2026, 3, 1))
    make_note(session, student, title="Maths log", occurred_on=date(2026, 5, 1))
    make_reflection(session, student, title="Debate reflection", competency_ids=[com.id])
    login(client, student)

    def titles(query: str) -> set[str]:
        html = client.get(f"/student?{query}").text
        return {t for t in ("Speech notes", "Maths log", "Debate reflection") if t in html}

    assert titles("kind=reflection") == {"Debate reflection"}
    assert titles("kind=note") == {"Speech notes", "Maths log"}
    assert titles(f"competency={com.id}") == {"Speech notes", "Debate reflection"}
    assert titles("tag=debate") == {"Speech notes"}
    assert titles("audience=family") == {"Speech notes"}
    assert titles("date_from=2026-04-01&date_to=2026-06-01") == {"Maths log"}
    assert titles("competency=abc&date_from=nonsense") == {"Speech notes", "Maths log", "Debate reflection"}


def test_htmx_filter_returns_only_the_timeline(client, session):
    student = make_user(session, make_school(session))
    make_note(session, student, title="Only me")
    login(client, student)
    fragment = client.get("/student?kind=note", headers={"HX-Request": "true"})
    assert fragment.text.lstrip().startswith('<div id="timeline">') and "Only me" in fragment.text
    assert "<html" not in fragment.text


def test_timeline_query_count_is_the_same_for_10_and_200_items(client, session, count_queries):
    student = make_user(session, make_school(session))
    login(client, student)
    counts = []
    for total in (10, 200):
        existing = len(counts) and 10
        for n in range(total - existing):
            if n % 2:
                make_note(session, student, title=f"Note {total}-{n}")
            else:
                make_reflection(session, student, title=f"Reflection {total}-{n}")
        with count_queries() as counter:
            assert client.get("/student").status_code == 200
        counts.append(counter.count)
    assert counts[0] == counts[1], counts


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_students_search_reads_their_items_through_the_owner_index_not_every_students_words(session):
    """Two common words in a district: ANDing the GIN lists of both over every student's items costs more than
    testing one student's few hundred documents, so the timeline's search stays on the owner index."""
    import sqlalchemy as sa
    from sqlmodel import select

    from app.models import Item
    from app.services.portfolio.timeline import _ranked_search, search_tokens

    student = make_user(session, make_school(session))
    make_note(session, student, title="River volcano")
    session.exec(sa.text("SET LOCAL enable_seqscan = off"))

    def plan(statement) -> str:
        compiled = statement.compile(dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True})
        return "\n".join(session.exec(sa.text(f"EXPLAIN {compiled}")).scalars())

    mine = _ranked_search(select(Item.id).where(Item.owner_id == student.id), session=session,
                          tokens=search_tokens("river volcano"))
    assert "ix_items_search" not in plan(mine) and "ix_items_owner_when" in plan(mine), plan(mine)
    assert len(session.exec(mine).all()) == 1
    # Even with nothing else to go by, the match itself never reaches for the GIN index.
    anyone = _ranked_search(select(Item.id), session=session, tokens=search_tokens("river volcano"))
    assert "ix_items_search" not in plan(anyone), plan(anyone)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_postgresql_search_can_use_the_gin_index(session):
    """The search's document is the very expression ix_items_search is built on (else it is a sequential scan)."""
    import sqlalchemy as sa
    from sqlmodel import select

    from app.models import Item
    from app.services.portfolio.timeline import postgres_search, search_tokens

    student = make_user(session, make_school(session))
    make_note(session, student, title="Café visit")
    document, query = postgres_search(search_tokens("café visit"))
    statement = select(Item.id).where(document.op("@@")(query))
    session.exec(sa.text("SET LOCAL enable_seqscan = off"))  # a tiny table would be scanned whatever the index
    compiled = statement.compile(dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True})
    plan = "\n".join(session.exec(sa.text(f"EXPLAIN {compiled}")).scalars())
    assert "ix_items_search" in plan, plan
    assert session.exec(statement).all() == [session.exec(select(Item.id)).one()]
