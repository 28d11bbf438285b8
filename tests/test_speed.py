"""Work a page no longer repeats on every view: excerpts parsed once (their cache kept small), no row loaded for
every classmate on a student's home."""

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


def test_the_student_home_names_each_class_with_its_teachers_whatever_the_class_size(client, session, count_queries):
    from app.models import ClassRole, EnrolledVia, Role
    from app.services.classes.classes import enroll
    from tests.factories import login, make_class, make_school, make_user

    school = make_school(session)
    maya = make_user(session, school, display_name="Maya Chen")
    teachers = [make_user(session, school, Role.teacher, display_name=name) for name in ("Zoe Park", "Ana Ruiz")]
    science = make_class(session, school, teachers=teachers, students=[maya], name="Science 5")
    make_class(session, school, students=[maya], name="Art club")  # no teacher yet
    login(client, maya)
    counts = []
    for classmates in (2, 30):
        while len(science.enrollments) < classmates + 3:
            enroll(session=session, school_class=science, user=make_user(session, school), role=ClassRole.student,
                   via=EnrolledVia.admin)
            session.commit()
            session.refresh(science)
        with count_queries() as counter:
            html = client.get("/student").text
        counts.append(len(counter.statements))
        assert "Science 5 <span class=\"muted\">· Ana Ruiz, Zoe Park</span>" in html
        assert "Art club <span class=\"muted\">· </span>" in html
    assert counts[0] == counts[1], counts
