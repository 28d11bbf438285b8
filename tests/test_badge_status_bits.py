"""Each credential's revocation bit sits at a random place in its school's status list (the Bitstring Status List
spec's advice), so a published index tells nobody how many credentials a school has issued; no two ever share a bit,
even when issued at the same moment; a list filled to half makes way for the next."""

from __future__ import annotations

import base64
import gzip
import json
import threading

from sqlmodel import Session, select

from app.models import CompetencyRating, Credential, RatingSource
from app.services.badges import issuing, urls
from tests.test_badges import build_world, login


def _ratings(session, w, count: int) -> list[int]:
    rows = [CompetencyRating(student_id=w["maya"].id, competency_id=w["competency"].id, level_id=w["level"].id,
                             rated_by_id=w["shah"].id, source=RatingSource.teacher) for _ in range(count)]
    session.add_all(rows)
    session.commit()
    return [row.id for row in rows]


def _issue(app, settings, w, rating_ids: list[int]) -> None:
    with Session(app.state.engine) as db:
        teacher = db.merge(w["shah"])
        for rating_id in rating_ids:
            issuing.issue_for_rating(session=db, settings=settings, teacher=teacher, rating_id=rating_id)
            db.commit()


def _set_bits(encoded: str) -> list[int]:
    bits = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
    return [i for i in range(len(bits) * 8) if bits[i // 8] & (0x80 >> (i % 8))]


def test_bits_are_random_distinct_and_the_revoked_one_is_the_only_bit_set(app, settings, session, client):
    w = build_world(session)
    _issue(app, settings, w, _ratings(session, w, 12))
    credentials = session.exec(select(Credential).order_by(Credential.id)).all()
    assert len(credentials) == 12
    for credential in credentials:
        entry = json.loads(credential.document)["credentialStatus"]
        assert entry["statusListIndex"] == str(credential.status_index) and credential.status_list == 0
        assert 0 <= credential.status_index < urls.STATUS_LIST_BITS
    indexes = [c.status_index for c in credentials]
    assert len(set(indexes)) == 12
    assert indexes != sorted(indexes)  # not handed out in order (a chance of 1 in 12! that random ones are)

    revoked = credentials[5]
    login(client, w["shah"])
    assert client.post(f"/credentials/{revoked.public_id}/revoke", data={"reason": "Wrong student"}).status_code == 303
    client.cookies.clear()
    published = client.get(f"/badges/issuers/{w['school'].id}/status/0").json()
    assert _set_bits(published["credentialSubject"]["encodedList"]) == [revoked.status_index]
    assert "This credential was revoked" in client.get(f"/badges/credentials/{revoked.public_id}/verify").text
    assert "genuine and valid" in client.get(f"/badges/credentials/{credentials[6].public_id}/verify").text


def test_a_list_half_full_makes_way_for_the_next(app, settings, session, client, monkeypatch):
    monkeypatch.setattr(urls, "STATUS_LIST_BITS", 8)  # a list of 8 bits takes 4 credentials
    w = build_world(session)
    _issue(app, settings, w, _ratings(session, w, 9))
    credentials = session.exec(select(Credential).order_by(Credential.id)).all()
    assert [c.status_list for c in credentials] == [0] * 4 + [1] * 4 + [2]
    for number in (0, 1):
        assert len({c.status_index for c in credentials if c.status_list == number}) == 4
    last = credentials[-1]
    assert json.loads(last.document)["credentialStatus"]["statusListCredential"].endswith("/status/2")
    login(client, w["shah"])
    assert client.post(f"/credentials/{last.public_id}/revoke", data={"reason": "Wrong student"}).status_code == 303
    client.cookies.clear()
    assert _set_bits(client.get(f"/badges/issuers/{w['school'].id}/status/2").json()
                     ["credentialSubject"]["encodedList"]) == [last.status_index]
    assert _set_bits(client.get(f"/badges/issuers/{w['school'].id}/status/1").json()
                     ["credentialSubject"]["encodedList"]) == []


def test_credentials_issued_at_the_same_moment_never_share_a_bit(app, settings, session, monkeypatch):
    monkeypatch.setattr(urls, "STATUS_LIST_BITS", 16)  # few places, so careless picking would collide
    w = build_world(session)
    rating_ids = _ratings(session, w, 16)
    failures: list[BaseException] = []
    barrier = threading.Barrier(4)

    def worker(chunk: list[int]) -> None:
        barrier.wait()
        try:
            _issue(app, settings, w, chunk)
        except BaseException as error:  # noqa: BLE001 - the test reports it
            failures.append(error)

    threads = [threading.Thread(target=worker, args=(rating_ids[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    bits = session.exec(select(Credential.status_list, Credential.status_index)).all()
    assert len(bits) == 16 and len(set(bits)) == 16
    assert sorted(number for number, _index in bits) == [0] * 8 + [1] * 8
