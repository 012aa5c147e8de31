"""The settings tree: defaults, TOML file, environment overrides, validation, URL redaction."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from safecity.config import load_settings, redact_url


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    for key in list(__import__("os").environ):
        if key.startswith("SAFECITY_"):
            monkeypatch.delenv(key)


def test_defaults_use_embedded_sqlite_under_data_dir() -> None:
    s = load_settings()
    assert s.effective_database_url == "sqlite:///var/safecity.db"
    assert s.effective_media_dir == Path("var/media")


def test_toml_file_overrides_defaults(tmp_path: Path) -> None:
    cfg = tmp_path / "city.toml"
    cfg.write_text('data_dir = "/srv/safecity"\n[motion]\nvar_threshold = 40.0\n')
    s = load_settings(cfg)
    assert (s.data_dir, s.motion.var_threshold) == (Path("/srv/safecity"), 40.0)


def test_safecity_toml_in_working_directory_is_read(tmp_path: Path) -> None:
    (tmp_path / "safecity.toml").write_text("[store]\nbatch_size = 42\n")
    assert load_settings().store.batch_size == 42


def test_environment_overrides_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "city.toml"
    cfg.write_text("[store]\nbatch_size = 42\n")
    monkeypatch.setenv("SAFECITY_STORE__BATCH_SIZE", "7")
    assert load_settings(cfg).store.batch_size == 7


def test_config_path_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "other.toml"
    cfg.write_text("[camera_defaults]\nretention_days = 10\n")
    monkeypatch.setenv("SAFECITY_CONFIG", str(cfg))
    assert load_settings().camera_defaults.retention_days == 10


def test_unknown_key_in_toml_is_an_error(tmp_path: Path) -> None:
    cfg = tmp_path / "city.toml"
    cfg.write_text("[motion]\nvar_treshold = 40.0\n")
    with pytest.raises(ValidationError, match="var_treshold"):
        load_settings(cfg)


def test_out_of_range_value_is_an_error(tmp_path: Path) -> None:
    cfg = tmp_path / "city.toml"
    cfg.write_text("[camera_defaults]\nretention_days = 0\n")
    with pytest.raises(ValidationError, match="retention_days"):
        load_settings(cfg)


def test_missing_config_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"nope\.toml does not exist"):
        load_settings(tmp_path / "nope.toml")


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://city:s3cret@db:5432/safecity", "postgresql://city:***@db:5432/safecity"),
        ("rtsp://admin:admin@10.1.1.1/stream", "rtsp://admin:***@10.1.1.1/stream"),
        ("rtsp://10.1.1.1/stream", "rtsp://10.1.1.1/stream"),
        ("sqlite:///var/safecity.db", "sqlite:///var/safecity.db"),
        ("rtsp://token@cam/stream", "rtsp://***@cam/stream"),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown
