"""The README documents every setting by its environment name (the README stays true)."""

from pathlib import Path

import pytest

from app.config import Environment, Settings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_setting_is_in_readme(name):
    env_name = f"FOLIO_{name.upper()}"
    assert f"`{env_name}`" in README, f"{env_name} is not documented in README.md"


def test_production_requires_a_real_secret():
    with pytest.raises(ValueError, match="FOLIO_SECRET_KEY must be set"):
        Settings(_env_file=None, environment=Environment.production)
    with pytest.raises(ValueError, match="too short"):
        Settings(_env_file=None, environment=Environment.production, secret_key="short")
    settings = Settings(_env_file=None, environment=Environment.production, secret_key="x" * 40)
    assert settings.secure_cookies is True


def test_development_generates_and_keeps_a_secret(tmp_path):
    settings = Settings(_env_file=None, data_dir=tmp_path)
    first = settings.resolved_secret_key()
    assert len(first) >= 40
    assert Settings(_env_file=None, data_dir=tmp_path).resolved_secret_key() == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_environment_variables_are_read(monkeypatch, tmp_path):
    monkeypatch.setenv("FOLIO_MAX_UPLOAD_MB", "7")
    monkeypatch.setenv("FOLIO_PORT", "9001")
    settings = Settings(_env_file=None)
    assert settings.max_upload_bytes == 7 * 1024 * 1024 and settings.port == 9001
