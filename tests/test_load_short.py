"""The load test in short: 64 signed-in students (plus teacher and family sessions) on a live server for a few
seconds, through the same generator as bench/load.py. No speed thresholds here (those belong in bench/): every
request must answer without error or timeout, and /healthz must answer while the load runs."""

from __future__ import annotations

import pytest

from bench.load import check_base_url, demo_population, run_load, seed, serve_in_thread

USERS = 64
SECONDS = 4.0


def test_64_users_for_a_few_seconds_get_no_errors_and_healthz_answers(tmp_path, database_url):
    settings, population = seed(database_url=database_url, folder=tmp_path, students=USERS)
    assert len(population.students) == USERS

    with serve_in_thread(settings) as base_url:
        stats = run_load(base_url=base_url, population=population, seconds=SECONDS, timeout=15)

    overall = stats.overall
    assert overall.errors == 0, stats.table()
    assert overall.timeouts == 0, stats.table()
    assert stats.healthz_ok() >= 1, stats.table()
    assert stats.endpoints["healthz"].errors == stats.endpoints["healthz"].timeouts == 0, stats.table()
    # The whole mix ran: every kind of page was asked for and answered.
    for endpoint in ("student home", "timeline filter/search", "item page", "photo upload", "class overview",
                     "inbox", "family feed"):
        assert stats.endpoints[endpoint].statuses.get("200" if endpoint != "photo upload" else "201"), stats.table()


@pytest.mark.parametrize("url", ["http://example.com", "http://10.0.0.1:8000", "http://127.0.0.1.example.com",
                                 "ftp://127.0.0.1", "http://folio.local:8000"])
def test_the_generator_refuses_anything_but_a_loopback_address(url):
    with pytest.raises(ValueError):
        check_base_url(url)
    with pytest.raises(ValueError):
        run_load(base_url=url, population=demo_population(1), seconds=1)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000", "http://localhost:8000/", "http://[::1]:8000"])
def test_loopback_addresses_are_accepted(url):
    assert check_base_url(url) == url.rstrip("/")


def test_a_session_that_is_not_signed_in_counts_as_errors(tmp_path, database_url):
    # A redirect to the sign-in page is not an answer: a run whose sessions are unknown must not pass as clean.
    settings, population = seed(database_url=database_url, folder=tmp_path, students=2)
    for account in population.everyone:
        account.token = "not-a-session"
    with serve_in_thread(settings) as base_url:
        stats = run_load(base_url=base_url, population=population, seconds=1, uploads=False)
    assert stats.overall.errors == stats.overall.requests > 0
    assert stats.healthz_ok() >= 1
