"""Folio's settings: one typed class, read from FOLIO_* environment variables (or a .env file)."""

from __future__ import annotations

import ipaddress
import os
import secrets
from enum import Enum
from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Environment(str, Enum):
    development = "development"
    production = "production"


class SmtpSecurity(str, Enum):
    none = "none"
    starttls = "starttls"
    tls = "tls"


# app.models.Role's values (app.models imports this module's neighbours, so they are spelled out here).
ROLE_NAMES = ("student", "teacher", "guardian", "admin")


def _split(value: str) -> list[str]:
    return [part.strip().lower() for part in value.split(",") if part.strip()]


IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=16)
def parse_networks(value: str) -> tuple[IPNetwork, ...]:
    """"10.0.0.0/8, 192.0.2.7" as networks (a lone address is a network of one); ValueError names a bad entry."""
    networks = []
    for entry in (part.strip() for part in value.split(",")):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(f"{entry!r} is not an IP address or network (like 10.0.0.0/8)") from None
    return tuple(networks)


class Settings(BaseSettings):
    """Every setting Folio reads; each field is documented in README.md (a test checks)."""

    model_config = SettingsConfigDict(env_prefix="FOLIO_", env_file=".env", extra="ignore")

    environment: Environment = Field(
        Environment.development,
        description="development or production; production refuses demo data and a missing secret.",
    )
    data_dir: Path = Field(
        PROJECT_ROOT / "data",
        description="Folder for the SQLite database and the generated development secret.",
    )
    database_url: str = Field(
        "",
        description="SQLAlchemy URL; empty means a SQLite file data/folio.db. "
        "PostgreSQL: postgresql+psycopg://user:pass@host/db",
    )
    db_pool_size: int = Field(
        10, ge=1, description="Database connections kept open; each request uses one at a time.",
    )
    db_max_overflow: int = Field(
        10, ge=0, description="Extra connections opened under load beyond db_pool_size. Requests are run on at most "
        "db_pool_size + db_max_overflow - 1 threads, so none waits for a connection.",
    )
    db_busy_timeout: float = Field(
        5.0, gt=0, le=120, description="Seconds a save waits for the database to be free (SQLite's busy timeout; a "
        "lock on PostgreSQL) before it fails with a clear message instead of hanging.",
    )
    db_statement_timeout: float = Field(
        30.0, ge=0, description="PostgreSQL: seconds one statement of a request may run before it is cancelled "
        "(0 means no limit). Background jobs are not limited.",
    )
    secret_key: str = Field(
        "",
        description="Signs cookies. Generated into data/secret_key in development; required in production.",
    )
    upload_dir: Path = Field(
        PROJECT_ROOT / "uploads",
        description="Where uploaded files are stored (with FOLIO_STORAGE_URL empty); with S3, where uploads are "
        "received and checked before they go to the bucket.",
    )
    storage_url: str = Field(
        "",
        description="Where uploads and export files are kept: file:///folder or s3://bucket/prefix; empty means "
        "the folder upload_dir.",
    )
    s3_endpoint_url: str = Field("", description="The S3-compatible server's address; empty means AWS S3.")
    s3_region: str = Field("", description="The bucket's region; empty uses boto3's default (AWS_REGION...).")
    s3_access_key_id: str = Field("", description="Access key for the bucket; empty uses boto3's own credentials chain.")
    s3_secret_access_key: str = Field("", description="Secret key belonging to s3_access_key_id.")
    s3_addressing_style: str = Field(
        "", pattern="^(|path|virtual)$",
        description="path (https://host/bucket/key) or virtual (https://bucket.host/key); empty: path with "
        "s3_endpoint_url, virtual for AWS.",
    )
    max_upload_mb: int = Field(100, ge=1, description="Largest single upload, in megabytes.")
    student_quota_mb: int = Field(2048, ge=1, description="Total size of the uploads one student may keep, in megabytes.")
    trash_hours: int = Field(
        24, ge=0, le=24 * 90, description="Hours a deleted file waits in the upload store's trash before it is "
        "removed for good (a backup taken meanwhile still finds it).")
    health_min_free_mb: int = Field(
        512, ge=0, description="/healthz reports unavailable when the upload or data folder has less free space than "
        "this, in megabytes (a save needs room before the disk is full).")
    base_url: str = Field(
        "http://127.0.0.1:8000", description="Public address of this Folio, used in links and the CSRF check."
    )
    host: str = Field("127.0.0.1", description="Address `folio serve` (and `make run`) listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port `folio serve` (and `make run`) listens on.")
    workers: int = Field(
        0, ge=0, le=64, description="Processes `folio serve` (and `make run`) serves with; 0 means one per CPU core.",
    )
    cookie_secure: bool | None = Field(
        None, description="Send cookies over HTTPS only; defaults to on in production, off in development."
    )
    session_idle_minutes: int = Field(
        120, ge=1, description="Sign a user out after this many minutes without a request."
    )
    login_max_failures: int = Field(
        5, ge=1, description="Failed sign-ins allowed for one account name from one address in the window."
    )
    login_max_failures_per_account: int = Field(
        50, ge=1, description="Failed sign-ins allowed for one account name from all addresses together in the window."
    )
    login_max_failures_per_address: int = Field(
        100, ge=1, description="Failed attempts (sign-ins, and each kind of code) allowed from one address in the window."
    )
    login_window_minutes: int = Field(15, ge=1, description="Length of the throttling window.")
    trusted_proxies: str = Field(
        "127.0.0.1,::1",
        description="Comma-separated addresses or networks of reverse proxies whose X-Forwarded-For is believed; "
        "empty trusts none.",
    )
    default_locale: str = Field("en", description="Language used when neither the user nor the browser picks one.")
    timezone: str = Field(
        "UTC", description="The school's time zone (e.g. America/Vancouver): conference times are entered and shown in it."
    )
    invitation_days: int = Field(14, ge=1, le=365, description="Days a family invitation code stays valid.")
    setup_link_days: int = Field(7, ge=1, le=60, description="Days an account setup link stays valid.")
    retention_days: int = Field(
        365, ge=0, le=3650,
        description="Days a switched-off student's account and portfolio are kept before an admin may delete them.",
    )
    api_rate_per_minute: int = Field(
        120, ge=1, le=100_000,
        description="Requests one API token may make per calendar minute, counted in the database across all workers and hosts; more get 429.",
    )
    share_link_days: int = Field(
        30, ge=1, le=365, description="Longest (and default) lifetime, in days, of a showcase's secret link; students may pick shorter."
    )
    job_runner: str = Field(
        "in-process",
        description="in-process (the app runs exports and imports in a background thread) or external "
        "(run `folio worker` as a separate process; several may share the jobs table).",
        pattern="^(in-process|external)$",
    )
    job_heartbeat_seconds: float = Field(
        5.0, gt=0, le=300, description="How often a running job tells the others it is alive.",
    )
    job_timeout_seconds: float = Field(
        30.0, gt=0, le=3600, description="A running job whose heartbeat is older than this lost its runner (the "
        "process died); it is started again, carrying on where it stopped, or failed after 3 tries.",
    )
    export_keep_hours: int = Field(24, ge=1, le=24 * 30, description="Hours a finished export stays downloadable.")
    import_max_mb: int = Field(1024, ge=1, description="Largest archive a student may upload to import, in megabytes.")
    import_max_unpacked_mb: int = Field(
        4096, ge=1, description="Most an imported archive may unpack to, in megabytes (zip bombs are refused)."
    )
    import_max_files: int = Field(20000, ge=1, description="Most files an imported archive may contain.")
    smtp_host: str = Field("", description="Mail server for digests and notification emails; empty means no email is sent.")
    smtp_port: int = Field(587, ge=1, le=65535, description="Mail server port.")
    smtp_security: SmtpSecurity = Field(
        SmtpSecurity.starttls, description="none, starttls (upgrade after connecting) or tls (TLS from the start, port 465)."
    )
    smtp_username: str = Field("", description="Mail server user name; empty means no login.")
    smtp_password: str = Field("", description="Mail server password.")
    mail_from: str = Field("Folio <folio@localhost>", description="The From address of every email Folio sends.")
    oidc_issuer: str = Field(
        "", description="Single sign-on: the OpenID Connect provider's issuer address (https://accounts.google.com, "
        "https://login.microsoftonline.com/<tenant id>/v2.0, ...); empty means no single sign-on.",
    )
    oidc_client_id: str = Field("", description="Single sign-on: Folio's client id at the provider.")
    oidc_client_secret: str = Field("", description="Single sign-on: Folio's client secret at the provider.")
    oidc_allowed_domains: str = Field(
        "", description="Single sign-on: comma-separated email domains accepted (school.org, students.school.org); "
        "anyone else is refused. Empty accepts any domain (a Folio account must still match).",
    )
    oidc_username_claim: str = Field(
        "", description="Single sign-on: the ID token claim whose value is a Folio username (e.g. preferred_username, "
        "or a claim carrying the roster's id), tried before the verified email; empty matches by email only.",
    )
    oidc_button_label: str = Field(
        "", max_length=60, description="Single sign-on: the provider's name on the sign-in button (\"Sign in with "
        "Google\"); empty says \"your school account\".",
    )
    password_login_roles: str = Field(
        "student,teacher,guardian,admin",
        description="Comma-separated roles (student, teacher, guardian, admin) that may sign in with a password; the "
        "others must use single sign-on (their password resets and setup links are refused too).",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: str) -> str:
        parse_networks(value)  # a typo must stop the start, not silently trust nothing (or too much)
        return value

    @field_validator("password_login_roles")
    @classmethod
    def _roles_are_known(cls, value: str) -> str:
        unknown = set(_split(value)) - set(ROLE_NAMES)
        if unknown:
            raise ValueError(f"unknown role(s) {', '.join(sorted(unknown))}: use {', '.join(ROLE_NAMES)}")
        return value

    @field_validator("storage_url")
    @classmethod
    def _storage_url_is_known(cls, value: str) -> str:
        if value:
            from app.storage.base import parse_storage_url

            parse_storage_url(value)  # a typo must stop the start, not put files somewhere unexpected
        return value

    @model_validator(mode="after")
    def _production_is_safe(self) -> "Settings":
        if self.environment is Environment.production and not self.secret_key:
            raise ValueError("FOLIO_SECRET_KEY must be set in production (at least 32 random characters).")
        if self.environment is Environment.production and len(self.secret_key) < 32:
            raise ValueError("FOLIO_SECRET_KEY is too short for production: use at least 32 random characters.")
        if self.is_production and self.oidc_issuer and not self.oidc_issuer.startswith("https://"):
            raise ValueError("FOLIO_OIDC_ISSUER must be an https:// address in production.")
        if self.oidc_issuer and not (self.oidc_client_id and self.oidc_client_secret):
            raise ValueError("FOLIO_OIDC_ISSUER needs FOLIO_OIDC_CLIENT_ID and FOLIO_OIDC_CLIENT_SECRET too.")
        if not self.oidc_issuer and set(self.password_login_role_names) != set(ROLE_NAMES):
            raise ValueError("FOLIO_PASSWORD_LOGIN_ROLES leaves some roles without a way to sign in: set FOLIO_OIDC_ISSUER "
                             "(single sign-on) too.")
        if self.job_timeout_seconds < 2 * self.job_heartbeat_seconds:
            raise ValueError("FOLIO_JOB_TIMEOUT_SECONDS must be at least twice FOLIO_JOB_HEARTBEAT_SECONDS, or a "
                             "busy job would be taken for dead.")
        return self

    @property
    def sso_enabled(self) -> bool:
        return bool(self.oidc_issuer)

    @property
    def oidc_domains(self) -> frozenset[str]:
        return frozenset(domain.lower().lstrip("@") for domain in _split(self.oidc_allowed_domains))

    @property
    def password_login_role_names(self) -> frozenset[str]:
        return frozenset(_split(self.password_login_roles))

    def password_login_allowed(self, role: str) -> bool:
        """Whether people with `role` (a Role or its value) may sign in, and be given, a password."""
        return getattr(role, "value", role) in self.password_login_role_names

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.production

    @property
    def secure_cookies(self) -> bool:
        return self.is_production if self.cookie_secure is None else self.cookie_secure

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'folio.db'}"

    @property
    def effective_storage_url(self) -> str:
        return self.storage_url or self.upload_dir.resolve().as_uri()

    @property
    def trusted_proxy_networks(self) -> tuple[IPNetwork, ...]:
        return parse_networks(self.trusted_proxies)

    @property
    def serving_processes(self) -> int:
        """How many processes `folio serve` starts: FOLIO_WORKERS, or the CPU cores this process may use."""
        if self.workers:
            return self.workers
        try:
            return max(1, len(os.sched_getaffinity(0)))
        except AttributeError:  # not on Linux
            return max(1, os.cpu_count() or 1)

    @property
    def jobs_dir(self) -> Path:
        """Where job results (PDFs, archives) and import scratch space live."""
        return self.data_dir / "jobs"

    @property
    def email_enabled(self) -> bool:
        return bool(self.smtp_host)

    @property
    def max_upload_bytes(self) -> int:
        return self.max_upload_mb * 1024 * 1024

    @property
    def student_quota_bytes(self) -> int:
        return self.student_quota_mb * 1024 * 1024

    @property
    def upload_time_limit_seconds(self) -> int:
        """The longest receiving and checking an upload can take: the biggest request (a full upload form or an
        archive to import) at 256 KB/s, plus an hour for checking and thumbnails; at least two hours. Scratch files
        and files with no row older than this were left by a process that died."""
        return max(2 * 3600, self.max_request_bytes // (256 * 1024) + 3600)

    @property
    def max_request_bytes(self) -> int:
        """The biggest request Folio takes (a full upload form, or an archive to import), with room for the form."""
        return max(20 * self.max_upload_bytes, self.import_max_mb * 1024 * 1024) + 1024 * 1024

    def resolved_secret_key(self) -> str:
        """The configured secret, or (development only) one generated once and kept in data_dir."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()


def get_settings() -> Settings:
    """Settings from the environment (called once per app or command, never at import time)."""
    return Settings()
