"""`pulsecoach teams package`: the manifest with the configured app id, and its icons."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from bot.cli.main import main
from bot.settings import get_settings

APP_ID = "3f2504e0-4f89-11d3-9a0c-0305e82c3301"


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, no_env: None, tmp_path: Path):
    get_settings.cache_clear()
    monkeypatch.setenv("PULSECOACH_DATA_DIR", str(tmp_path))
    yield monkeypatch
    get_settings.cache_clear()


def test_the_package_names_the_app_and_holds_valid_icons(
    env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env.setenv("MICROSOFT_APP_ID", APP_ID)
    env.setenv("MICROSOFT_APP_PASSWORD", "secret")
    env.setenv("PULSECOACH_PUBLIC_URL", "https://coach.contoso.example/")
    out = tmp_path / "app.zip"
    assert main(["teams", "package", "-o", str(out)]) == 0
    with zipfile.ZipFile(out) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(archive.read("manifest.json"))
        color = Image.open(io.BytesIO(archive.read("color.png")))
        outline = Image.open(io.BytesIO(archive.read("outline.png")))
    assert manifest["id"] == APP_ID and manifest["bots"][0]["botId"] == APP_ID
    assert manifest["bots"][0]["scopes"] == ["personal"]
    assert manifest["developer"]["websiteUrl"] == "https://coach.contoso.example"
    assert manifest["validDomains"] == ["coach.contoso.example"]
    assert "{{" not in json.dumps(manifest)
    commands = {c["title"] for c in manifest["bots"][0]["commandLists"][0]["commands"]}
    assert commands >= {"help", "results", "commitments", "digest", "snooze", "admin"}
    assert color.size == (192, 192)
    assert outline.size == (32, 32) and outline.mode == "RGBA"
    # Teams: the outline icon is white on transparent, nothing else
    pixels = [outline.getpixel((x, y)) for x in range(32) for y in range(32)]
    assert {px[:3] for px in pixels if px[3]} <= {(255, 255, 255)}  # type: ignore[index]
    assert any(px[3] == 0 for px in pixels)  # type: ignore[index]


def test_without_an_app_id_it_says_what_to_set(
    env: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env.setenv("PULSECOACH_TEAMS", "dev")
    assert main(["teams", "package", "-o", str(tmp_path / "x.zip")]) == 2
    assert "MICROSOFT_APP_ID is not set" in capsys.readouterr().err
    assert not (tmp_path / "x.zip").exists()
