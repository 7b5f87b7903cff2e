"""The Teams app package: manifests/teams/manifest.json with the configured app id (and
the public URL where the manifest wants a web page), zipped with its two icons, ready
to upload in Teams (Apps > Manage your apps > Upload an app)."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path

MANIFESTS = Path(__file__).resolve().parents[2] / "manifests" / "teams"
ICONS = ("color.png", "outline.png")
APP_ID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
NO_PAGE = "https://www.example.com"  # Teams wants an https page; any will do


class PackageError(ValueError):
    """The package cannot be made; the message says what to set."""


def manifest(app_id: str, public_url: str = "", source: Path = MANIFESTS) -> dict[str, object]:
    if not app_id:
        raise PackageError("MICROSOFT_APP_ID is not set: the package names the bot by it")
    if not APP_ID.match(app_id):
        raise PackageError(f"MICROSOFT_APP_ID {app_id!r} is not an app id (a GUID)")
    page = public_url.rstrip("/") if public_url.startswith("https://") else NO_PAGE
    text = (source / "manifest.json").read_text(encoding="utf-8")
    text = text.replace("{{MICROSOFT_APP_ID}}", app_id).replace("{{PUBLIC_URL}}", page)
    loaded: dict[str, object] = json.loads(text)
    if page != NO_PAGE:
        loaded["validDomains"] = [page.split("//", 1)[1].split("/", 1)[0]]
    return loaded


def build(app_id: str, public_url: str = "", source: Path = MANIFESTS) -> bytes:
    """The zip's bytes: manifest.json and the icons at its root, as Teams requires."""
    content = manifest(app_id, public_url, source)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(content, indent=2, ensure_ascii=False))
        for icon in ICONS:
            archive.write(source / icon, icon)
    return buffer.getvalue()
