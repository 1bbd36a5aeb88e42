"""digest.toml: every unknown key and bad value is reported at once, with its line."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Run, write

BAD = """\
titel = "Typo digest"
base_url = "example.org"
per_page = "ten"
timezone = "Mars/Olympus"

[[topics]]
title = "Arctic"
requre = [["ice"]]

[[topics]]
title = "Trade"
threshold = 0
"""


def test_all_problems_are_reported_with_lines(tmp_path: Path, digest: Run) -> None:
    write(tmp_path / "digest.toml", BAD)
    result = digest("build", "-C", tmp_path)
    assert result.code == 1
    assert "Traceback" not in result.err
    lines = result.err.splitlines()
    assert (
        "error: digest.toml:1: unknown key 'titel' in digest.toml — did you mean 'title'?" in lines
    )
    assert any(
        ln.startswith("error: digest.toml:2: base_url 'example.org' is not an absolute")
        for ln in lines
    )
    assert any(
        ln.startswith("error: digest.toml:3: 'per_page' must be a whole number") for ln in lines
    )
    assert any(
        ln.startswith("error: digest.toml:4: unknown timezone 'Mars/Olympus'") for ln in lines
    )
    assert any(
        ln.startswith(
            "error: digest.toml:8: unknown key 'requre' in [[topics]] — did you mean 'require'"
        )
        for ln in lines
    )
    assert any(
        ln.startswith("error: digest.toml:12: 'threshold' must be a whole number above 0")
        for ln in lines
    )
    assert len(lines) == 6
    assert not (tmp_path / "site").exists()


def test_syntax_error_names_its_line(tmp_path: Path, digest: Run) -> None:
    write(tmp_path / "digest.toml", 'title = "x"\nbase_url = "https://e.org/"\nper_page = = 3\n')
    result = digest("build", "-C", tmp_path)
    assert result.code == 1
    assert result.err.startswith("error: digest.toml:3: not valid TOML")
    assert " — " in result.err


def test_missing_config_says_what_to_do(tmp_path: Path, digest: Run) -> None:
    result = digest("build", "-C", tmp_path)
    assert result.code == 1
    assert "no digest.toml here — run digest in your project folder" in result.err


def test_traceback_only_with_verbose(tmp_path: Path, digest: Run) -> None:
    write(tmp_path / "digest.toml", "titel = 1\n")
    assert "Traceback" not in digest("build", "-C", tmp_path).err
    assert "Traceback" in digest("build", "--verbose", "-C", tmp_path).err


def test_output_folder_must_not_swallow_content(tmp_path: Path, digest: Run) -> None:
    write(tmp_path / "digest.toml", 'base_url = "https://e.org/"\noutput = "content"\n')
    result = digest("build", "-C", tmp_path)
    assert result.code == 1
    assert "digest.toml:2: output folder would contain the inbox folder" in result.err


def test_defaults_fill_what_is_not_said(tmp_path: Path) -> None:
    from digest import config

    write(tmp_path / "digest.toml", 'base_url = "https://e.org/sub"\n')
    cfg = config.load(tmp_path)
    assert cfg.base_url == "https://e.org/sub/"
    assert cfg.inbox == tmp_path.resolve() / "content" / "inbox"
    assert cfg.output == tmp_path.resolve() / "site"
    assert cfg.per_page == 20
    assert str(cfg.timezone) == "UTC"
