"""Every request body has a cap, checked as the bytes arrive: a huge file sent to a route that takes a small one is
refused with the "too large" page before it reaches the disk, whether or not the client says its length."""

from sqlmodel import select

from app.models import Framework, Role
from tests.factories import login, make_school, make_user


def _admin(client, session):
    school = make_school(session)
    login(client, make_user(session, school, Role.admin))


def test_a_huge_framework_file_is_refused_from_its_declared_length(client, session):
    _admin(client, session)
    response = client.post("/admin/frameworks/import",
                           files={"framework_file": ("huge.json", b"{" + b" " * (3 * 1024 * 1024) + b"}",
                                                     "application/json")})
    assert response.status_code == 413
    assert "That was too large" in response.text
    assert session.exec(select(Framework)).first() is None


def test_a_body_without_a_length_is_cut_off_once_it_passes_the_cap(app):
    """Driven as a server would drive it, chunk by chunk (the test client would buffer the whole body first); even
    without signing in, as the form is read before anyone is looked up."""
    import anyio

    pulled = 0
    statuses = []

    async def receive():
        nonlocal pulled
        pulled += 1
        if pulled == 1:
            return {"type": "http.request", "more_body": True,
                    "body": b'--b\r\nContent-Disposition: form-data; name="framework_file"; filename="f.json"\r\n\r\n'}
        return {"type": "http.request", "body": b" " * (1024 * 1024), "more_body": pulled < 65}  # 64 MB

    async def send(message):
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": "/admin/frameworks/import", "raw_path": b"/admin/frameworks/import", "query_string": b"",
             "root_path": "", "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8000),
             "headers": [(b"host", b"127.0.0.1:8000"), (b"content-type", b"multipart/form-data; boundary=b")]}
    anyio.run(app, scope, receive, send)
    assert statuses == [413]
    assert pulled <= 3  # about 1 MB read, not 64


def test_a_normal_form_still_goes_through(client, session):
    _admin(client, session)
    response = client.post("/admin/frameworks/import",
                           files={"framework_file": ("f.json", b"not json", "application/json")})
    assert response.status_code == 422  # read and answered by the route, not cut off
