"""Settings: defaults, comove.toml in the working folder, the environment, secrets redacted."""

from __future__ import annotations

from pathlib import Path

import pytest

from comove.config import DEFAULT_CRYPTO, STORE_FILE, Settings, load_settings
from comove.errors import ConfigError


def test_defaults_and_environment(tmp_path: Path) -> None:
    settings = load_settings(cwd=tmp_path, environ={"COMOVE_HOME": str(tmp_path / "home")})
    assert settings.crypto_sources == DEFAULT_CRYPTO
    assert settings.equity_sources[0] == "yahoo:^RUT"
    assert settings.windows == (30, 60, 90)
    assert settings.store_path == tmp_path / "home" / STORE_FILE
    assert settings.fred_api_key is None


def test_config_file_in_working_folder(tmp_path: Path) -> None:
    (tmp_path / "comove.toml").write_text(
        '[pair]\ncrypto = "exchange:kraken:ETH/USD"\nequity = ["yahoo:IWM"]\n'
        "[analysis]\nwindows = [20, 40]\n"
        '[store]\npath = "/data/comove.duckdb"\n'
        '[keys]\nfred_api_key = "sekret-123"\n'
    )
    settings = load_settings(cwd=tmp_path, environ={})
    assert settings.crypto_sources == ("exchange:kraken:ETH/USD",)
    assert settings.equity_sources == ("yahoo:IWM",)
    assert settings.windows == (20, 40)
    assert settings.store_path == Path("/data/comove.duckdb")
    assert settings.fred_api_key == "sekret-123"
    assert "sekret" not in repr(settings.redacted())
    assert "sekret" not in repr(settings)
    assert settings.redacted()["fred_api_key"] == "***"
    assert settings.config_files[-1] == tmp_path / "comove.toml"


def test_environment_overrides_file(tmp_path: Path) -> None:
    (tmp_path / "comove.toml").write_text('[keys]\nfred_api_key = "from-file"\n')
    settings = load_settings(cwd=tmp_path, environ={"FRED_API_KEY": "from-env"})
    assert settings.fred_api_key == "from-env"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[pair\n", "not valid TOML"),
        ("[nonsense]\nx = 1\n", "unknown section [nonsense]"),
        ("[analysis]\nwindows = [2]\n", "windows"),
        ("[pair]\ncrypto = []\n", "expected a source"),
        ("pair = 3\n", "must be a table"),
        ("x = " + "[" * 5000 + "]" * 5000 + "\n", "nested too deeply"),
        (
            '[[alerts.channels]]\ntype = "webhook"\nname = "w"\nurl = "http://x"\ntimeout = inf\n',
            "timeout",
        ),
        ("[alerts]\nretries = 100000000\n", "retries"),
        (
            '[[alerts.channels]]\ntype = "webhook"\nname = "w"\nurl = 12345\n',
            "url",
        ),
        (
            '[[alerts.channels]]\ntype = "webhook"\nname = "w"\nurl = ["http://x"]\n',
            "url",
        ),
        (
            '[[alerts.channels]]\ntype = "webhook"\nname = "w"\nurl_env = 5\n',
            "url_env",
        ),
        (
            '[[alerts.channels]]\ntype = "email"\nname = "m"\nhost = "h"\nfrom = "a@b.c"\nto = ["d@e.f"]\npassword = 1234\n',
            "password",
        ),
    ],
)
def test_bad_config_names_the_file(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "comove.toml").write_text(text)
    with pytest.raises(ConfigError, match=r"comove\.toml") as caught:
        load_settings(cwd=tmp_path, environ={})
    assert message in str(caught.value)


def test_explicit_missing_config(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml", environ={})


def test_a_store_path_given_as_text_is_a_path() -> None:
    settings = Settings(store_path="~/somewhere/comove.duckdb")  # type: ignore[arg-type]
    assert isinstance(settings.store_path, Path)
    assert "~" not in str(settings.store_path)
