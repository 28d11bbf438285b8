"""Pulling a roster from a OneRoster 1.1 or 1.2 REST service (OAuth 2 client credentials, pages of `limit` and
`offset`) into the same rows a CSV set gives, so the same plan and apply code imports it. Used by `folio roster-sync`.

A pull is the whole roster, so each collection counts as a "bulk" file: records an earlier sync made that the service
no longer lists are switched off."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx

from app.services.roster_import.csv_reader import Row, RosterSet

COLLECTIONS = ("orgs", "academicSessions", "courses", "classes", "users", "enrollments")
MAX_PAGES = 10_000  # a service that never stops paging is stopped here
SCOPES = ("https://purl.imsglobal.org/spec/or/v1p1/scope/roster-core.readonly "
          "https://purl.imsglobal.org/spec/or/v1p2/scope/roster-core.readonly")
# A reference to another record becomes the CSV column that names it.
REFERENCE_COLUMNS = {"orgs": "orgSourcedIds", "agents": "agentSourcedIds", "terms": "termSourcedIds",
                     "course": "courseSourcedId", "school": "schoolSourcedId", "class": "classSourcedId",
                     "user": "userSourcedId", "schoolYear": "schoolYearSourcedId", "parent": "parentSourcedId",
                     "org": "orgSourcedId", "primaryOrg": "primaryOrgSourcedId"}


class RosterServiceProblem(Exception):
    """The service refused or answered something that isn't OneRoster; the message says what happened."""


def default_token_url(base_url: str) -> str:
    parts = urlsplit(base_url)
    return f"{parts.scheme}://{parts.netloc}/token"


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(_text(v) for v in value)
    return "" if value is None else str(value)


def _columns(record: dict) -> dict[str, str]:
    """A JSON record as a CSV row's values (columns lower-cased, as the CSV reader keeps them)."""
    values: dict[str, str] = {}
    for key, value in record.items():
        if isinstance(value, dict) and "sourcedId" in value:
            values[REFERENCE_COLUMNS.get(key, f"{key}SourcedId").lower()] = str(value["sourcedId"])
        elif isinstance(value, list) and value and all(isinstance(v, dict) and "sourcedId" in v for v in value):
            values[REFERENCE_COLUMNS.get(key, f"{key}SourcedIds").lower()] = ",".join(str(v["sourcedId"]) for v in value)
        elif not isinstance(value, (dict, list)) or key in ("grades", "subjects"):
            values[key.lower()] = _text(value)
    return values


def _token(client: httpx.Client, token_url: str, client_id: str, client_secret: str) -> str:
    response = client.post(token_url, data={"grant_type": "client_credentials", "scope": SCOPES},
                           auth=(client_id, client_secret))
    if response.status_code != 200:
        raise RosterServiceProblem(f"The token endpoint {token_url} answered {response.status_code}: check the client "
                                   "id and secret.")
    token = response.json().get("access_token")
    if not token:
        raise RosterServiceProblem(f"The token endpoint {token_url} gave no access_token.")
    return token


def _collection(client: httpx.Client, url: str, name: str, limit: int) -> list[dict]:
    records: list[dict] = []
    for page in range(MAX_PAGES):
        response = client.get(f"{url}/{name}", params={"limit": limit, "offset": page * limit})
        if response.status_code == 404 and name != "users":
            return records  # a service without this collection (courses, often): the roster goes on without it
        if response.status_code != 200:
            raise RosterServiceProblem(f"{url}/{name} answered {response.status_code}.")
        body = response.json()
        batch = body.get(name) if isinstance(body, dict) else None
        if not isinstance(batch, list):
            raise RosterServiceProblem(f"{url}/{name} didn't answer with a list of {name}.")
        records.extend(r for r in batch if isinstance(r, dict))
        total = response.headers.get("x-total-count")
        if len(batch) < limit or (total and total.isdigit() and len(records) >= int(total)):
            return records
    raise RosterServiceProblem(f"{url}/{name} kept paging past {MAX_PAGES} pages.")


def fetch_roster(*, base_url: str, client_id: str, client_secret: str, token_url: str | None = None,
                 limit: int = 100, transport: httpx.BaseTransport | None = None, timeout: float = 30.0) -> RosterSet:
    """The roster the service holds, as a RosterSet (1.2's roles inside each user become roles.csv rows)."""
    url = base_url.rstrip("/")
    roster = RosterSet(has_manifest=True)
    with httpx.Client(transport=transport, timeout=timeout, follow_redirects=False) as client:
        token = _token(client, token_url or default_token_url(url), client_id, client_secret)
        client.headers["Authorization"] = f"Bearer {token}"
        for name in COLLECTIONS:
            records = _collection(client, url, name, limit)
            rows = [Row(f"{name} (REST)", index, _columns(record)) for index, record in enumerate(records, start=1)]
            roster.tables[name] = rows
            roster.modes[name] = roster.declared[name] = "bulk"
            if name == "users":
                roster.tables["roles"] = _roles(records)
    roster.version = "1.2" if roster.tables.get("roles") else "1.1"
    return roster


def _roles(users: list[dict]) -> list[Row]:
    rows = []
    for user in users:
        for role in user.get("roles") or []:
            if isinstance(role, dict):
                org = role.get("org") if isinstance(role.get("org"), dict) else {}
                rows.append(Row("roles (REST)", len(rows) + 1, {
                    "userSourcedId".lower(): str(user.get("sourcedId", "")), "role": _text(role.get("role")),
                    "roletype": _text(role.get("roleType")), "orgsourcedid": _text(org.get("sourcedId"))}))
    return rows
