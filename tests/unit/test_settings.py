"""The settings model read through the real command line: flags > CHECKD_* > --config file > defaults."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from checkd.cli import _parser
from checkd.cli.options import resolve_settings
from checkd.config import Config


def settings(argv: list[str]) -> argparse.Namespace:
    args = _parser().parse_args(argv)
    resolve_settings(args)
    return args


def test_each_setting_is_a_flag_with_its_default_in_help() -> None:
    """Every flag-able setting of Config is a serve flag whose help shows its default and variable."""
    serve = next(
        action.choices["serve"]
        for action in _parser()._actions
        if isinstance(action, argparse._SubParsersAction)
    )
    text = serve.format_help().replace("\n", " ")
    text = " ".join(text.split())
    for name, info in Config.model_fields.items():
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        if not extra.get("flag"):
            # Secrets never go on a command line; other settings set only by checkd itself neither.
            assert f"--{name.replace('_', '-')} " not in text, name
            continue
        assert f"--{name.replace('_', '-')}" in text, name
        assert f"CHECKD_{name.upper()}; default:" in text, name
    assert "[CHECKD_MAX_BATCH; default: 1000]" in text


def test_flags_win_over_the_environment_which_wins_over_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same settings from three sources: the flag, then CHECKD_*, then the file, then the default."""
    file = tmp_path / "checkd.toml"
    file.write_text('db = "sqlite:///from-file.db"\nmax_batch = 7\nworkers = 3\nlisten = "127.0.0.1:6000"\n')
    monkeypatch.setenv("CHECKD_MAX_BATCH", "8")
    monkeypatch.setenv("CHECKD_WORKERS", "4")
    args = settings(["serve", "--config", str(file), "--workers", "5"])
    config: Config = args.settings
    assert (config.workers, config.max_batch, config.db, config.listen) == (
        5,
        8,
        "sqlite:///from-file.db",
        "127.0.0.1:6000",
    )
    assert config.grace == Config.model_fields["grace"].default
    assert args.db == "sqlite:///from-file.db"  # commands read the effective value from args too
    monkeypatch.setenv("CHECKD_CONFIG", str(file))
    assert settings(["ledger", "verify"]).db == "sqlite:///from-file.db"


def test_bad_settings_are_named_with_their_flag_variable_and_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A wrong type in the environment, an unknown key in the file, a missing file: each named."""
    monkeypatch.setenv("CHECKD_MAX_BATCH", "many")
    with pytest.raises(
        ValueError, match=r"--max-batch \(CHECKD_MAX_BATCH\): Input should be a valid integer"
    ):
        settings(["serve"])
    monkeypatch.delenv("CHECKD_MAX_BATCH")
    file = tmp_path / "checkd.toml"
    file.write_text("max_bacth = 3\n")
    with pytest.raises(ValueError, match=r"checkd.toml: unknown setting 'max_bacth'"):
        settings(["serve", "--config", str(file)])
    with pytest.raises(ValueError, match=r"--config: .*nowhere.toml is not a file"):
        settings(["serve", "--config", str(tmp_path / "nowhere.toml")])
    with pytest.raises(ValueError, match=r"--max-batch: must be at least 1"):
        settings(["serve", "--max-batch", "0"])


def test_the_shown_configuration_masks_secrets_and_the_database_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What serve logs at start: the secret and the PostgreSQL password never appear."""
    monkeypatch.setenv("CHECKD_SECRET", "s3cret-value-0123456789")
    args = settings(["serve", "--db", "postgresql+psycopg://checkd:hunter2@db.example:5432/checkd"])
    shown = args.settings.shown()
    assert (
        shown["secret"] == "***" and shown["db"] == "postgresql+psycopg://checkd:***@db.example:5432/checkd"
    )
    assert "hunter2" not in str(shown) and "s3cret" not in str(shown)


def test_the_example_file_is_valid() -> None:
    """etc/checkd.toml loads as it is shipped."""
    example = Path(__file__).resolve().parent.parent.parent / "etc" / "checkd.toml"
    config = settings(["serve", "--config", str(example)]).settings
    assert config.listen == "127.0.0.1:50051"
