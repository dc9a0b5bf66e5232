from dataclasses import dataclass
from decimal import Decimal

import pytest

from shop.settings import Settings, SettingsError, load_plugin_settings, read_env_file


def test_defaults_are_usable_and_a_secret_is_made_when_none_is_set():
    settings = Settings.from_env({})
    assert settings.database_url.startswith("sqlite:///")
    assert len(settings.secret_key) >= 32
    assert settings.callback_base_url == "http://127.0.0.1:8000"


@pytest.mark.parametrize("env, named", [
    ({"PORT": "eighty"}, "PORT"),
    ({"DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
    ({"PUBLIC_URL": "shop.example.com"}, "PUBLIC_URL"),
    ({"REDIS_URL": "http://localhost"}, "REDIS_URL"),
    ({"SECRET_KEY": "short"}, "SECRET_KEY"),
    ({"ADMIN_PASSWORD": "1234"}, "ADMIN_PASSWORD"),
    ({"DEBUG": "maybe"}, "DEBUG"),
    ({"STATUS_CHECK_SECONDS": "0"}, "STATUS_CHECK_SECONDS"),
    ({"STATUS_CHECK_SECONDS": "soon"}, "STATUS_CHECK_SECONDS"),
])
def test_a_malformed_setting_is_named_in_one_line(env, named):
    with pytest.raises(SettingsError) as error:
        Settings.from_env(env)
    message = str(error.value)
    assert message.startswith(named) and "\n" not in message


def test_redis_is_reached_by_url_or_unix_socket():
    for url in ("redis://127.0.0.1:6379/0", "rediss://cache.example:6380", "unix:///run/redis/redis.sock?db=1"):
        assert Settings.from_env({"REDIS_URL": url}).redis_url == url
    with pytest.raises(SettingsError, match="^REDIS_URL"):
        Settings.from_env({"REDIS_URL": "unix://"})


def test_env_file_is_read_and_the_environment_wins(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("# comment\nPORT=9001\nexport HOST='0.0.0.0'\n")
    assert read_env_file(env_file) == {"PORT": "9001", "HOST": "0.0.0.0"}
    env_file.write_text("not a setting\n")
    with pytest.raises(SettingsError):
        read_env_file(env_file)


@dataclass(frozen=True)
class _DemoSettings:
    base_url: str = "{sandbox_url}/api"
    fee: Decimal = Decimal("1.5")
    live: bool = False
    terminal: str = "t-1"


def test_plugin_settings_default_to_their_sandbox_and_read_prefixed_variables():
    settings = load_plugin_settings(_DemoSettings, "demo", {}, "http://127.0.0.1:8000/sandbox/demo")
    assert settings.base_url == "http://127.0.0.1:8000/sandbox/demo/api"
    live = load_plugin_settings(_DemoSettings, "demo", {"DEMO_BASE_URL": "https://api.example.com",
                                                        "DEMO_LIVE": "true", "DEMO_FEE": "2.25"}, "unused")
    assert (live.base_url, live.live, live.fee) == ("https://api.example.com", True, Decimal("2.25"))
    with pytest.raises(SettingsError, match="^DEMO_FEE"):
        load_plugin_settings(_DemoSettings, "demo", {"DEMO_FEE": "cheap"}, "unused")
