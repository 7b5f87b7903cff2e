"""Free text made harmless: what a coach sees of a model's answer or of a comment
(`inert`, `model_line`: no links, addresses, numbers to call, mentions, markup or
people's names, in any channel and any markdown) and what the model sees of a comment
(`redact`: names and contact details replaced, length capped).

Text is first normalised (NFKC, then format characters such as zero-width spaces and
bidi controls removed, and "[.]"/"(dot)" read as dots), so "Ma\u200bya" is "Maya" and
"evil[.]com" a domain before anything is matched.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from handlers.digests.names import names_pattern

MAX_COMMENT_CHARS = 500
_GAP = "\x00"  # where something was removed (not a name: that is replaced)
_NAME = "\x01"  # where a name was replaced

_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_ANGLE = re.compile(r"<[^<>]*>")
_SCHEMES = (
    "javascript|vbscript|data|mailto|tel|sms|callto|file|about|blob|intent|skype|slack|"
    "msteams|teams|whatsapp|zoommtg|ms-[a-z]+"
)
_URL = re.compile(
    rf"(?:\b[a-z][a-z0-9+.-]*://|\bwww\.|\b(?:{_SCHEMES}):)[^\s\"'“”‘’<>]*", re.IGNORECASE
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_MENTION = re.compile(r"(?<![\w])@[\w.\-]+")
_ENTITY = re.compile(r"&(?:#\d+|#x[0-9a-f]+|[a-z]+);", re.IGNORECASE)
_PORT_PATH = r"(?::\d{1,5})?(?:/[^\s\"'“”‘’<>]*)?"
_IPV4 = re.compile(rf"(?<![\w.])(?:\d{{1,3}}\.){{3}}\d{{1,3}}{_PORT_PATH}")
_IPV6 = re.compile(
    rf"(?<![\w:])\[?(?:[0-9a-f]{{1,4}}:){{3,7}}[0-9a-f]{{1,4}}\]?{_PORT_PATH}"
    rf"|(?<![\w:])\[?[0-9a-f]{{0,4}}::(?:[0-9a-f]{{1,4}}:?)*\]?{_PORT_PATH}",
    re.IGNORECASE,
)
_LOCALHOST = re.compile(rf"\blocalhost{_PORT_PATH}", re.IGNORECASE)
_HOST_PORT = re.compile(r"(?<![\w.])[a-z][\w-]*(?:\.[\w-]+)*:\d{2,5}(?:/\S*)?", re.IGNORECASE)
# Bare domains: "example.com/x", "intranet.example", "docs.acme.co.uk": a last label
# that is a common or reserved top-level domain, or any domain followed by a path.
_TLDS = (
    "com|org|net|io|co|dev|app|ai|edu|gov|info|biz|uk|de|fr|nl|eu|ch|dk|fi|pl|ca|au|nz|jp|"
    "cn|br|ru|in|es|it|se|no|be|at|me|ly|gg|xyz|site|online|link|click|top|example|test|"
    "local|internal|corp|lan|intranet"
)
_PATH = r"/(?:[^\s)\]}>\"'“”‘’]*[^\s)\]}>\"'“”‘’.,;:!?])?"  # closing punctuation stays
_DOMAIN = re.compile(
    rf"(?<![\w@.])(?:[a-z0-9-]+\.)+(?:(?:{_TLDS})\b(?:{_PATH})?|[a-z]{{2,}}{_PATH})",
    re.IGNORECASE,
)
# Phone numbers: an international prefix, or seven digits or more with a group of three
# ("+49 30 1234567", "(555) 123-4567", "555.123.4567"); dates and score lists survive.
_PHONE = re.compile(r"(?<![\w+])(?:\+|00)?\(?\d[\d\s().\-/]{5,}\d(?!\w)")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$|^\d{1,2}[./]\d{1,2}[./]\d{2,4}$")
_OBFUSCATED_DOT = re.compile(r"\s*(?:\[\.\]|\(\.\)|\[dot\]|\(dot\)|\{dot\})\s*", re.IGNORECASE)
_OBFUSCATED_AT = re.compile(r"\s*(?:\[at\]|\(at\)|\{at\})\s*", re.IGNORECASE)
_HXXP = re.compile(r"\bhxxps?://", re.IGNORECASE)
_MARKUP = re.compile(r"[*_~`|#\\\[\]{}]")
_SPACE = re.compile(r"[ \t]+")
_WORDS = re.compile(r"[^\W\d_]{2,}")
# A removal that leaves a word without its object: "Ask her at .", "see ?".
_NEEDS_OBJECT = (
    "at|to|on|in|into|from|via|by|for|of|with|about|see|visit|call|ask|ignore|email|"
    "e-mail|contact|text|phone|message|ping|reach|join|open|read|check|follow|use|"
    "under|the|a|an|and|or|is|are|was|were|like|than|as|say|says|said|named|called"
)
_DANGLING = re.compile(
    rf"(?<![^\W\d_])(?:{_NEEDS_OBJECT})\s*{_GAP}[\s{_GAP}]*(?:[.?!,;:)\]]|$)", re.IGNORECASE
)


def normalise(text: str) -> str:
    """NFKC, format and control characters removed (line breaks kept), obfuscated dots,
    at-signs and "hxxp" read as what they stand for."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(
        c for c in text if c in "\n\t" or unicodedata.category(c) not in ("Cf", "Cc", "Co", "Cs")
    )
    text = _OBFUSCATED_DOT.sub(".", text)
    text = _OBFUSCATED_AT.sub("@", text)
    return _HXXP.sub("http://", text)


def _phone(match: re.Match[str]) -> str:
    found = match.group()
    digits = sum(c.isdigit() for c in found)
    grouped = re.search(r"\d{3}", found) is not None
    international = found.startswith(("+", "00"))
    if _DATE.match(found.strip()) or digits < 7 or digits > 15:
        return found
    return _GAP if grouped or international else found


def _contacts(text: str, link: str, email: str, phone: str, mention: str) -> str:
    """Links in any form, e-mail addresses, IP addresses, hosts with ports, phone numbers
    and @mentions replaced."""
    text = _EMAIL.sub(email, text)
    for pattern in (_URL, _IPV4, _IPV6, _LOCALHOST, _HOST_PORT, _DOMAIN):
        text = pattern.sub(link, text)
    text = _PHONE.sub(lambda m: phone if _phone(m) == _GAP else m.group(), text)
    return _MENTION.sub(mention, text)


@dataclass(frozen=True)
class Cleaned:
    text: str  # safe to show
    broken: bool  # a removal left the line without its meaning
    named: bool  # someone's name was replaced


def clean(text: str, names: Iterable[str] = (), limit: int = 300) -> Cleaned:
    """`text` safe to show in any channel and any markdown, and whether it still means
    something: a line that loses an object to a removal ("Ask her at .") is broken."""
    text = normalise(text)
    text = _MD_LINK.sub(r"\1", text)
    text = _ANGLE.sub(_GAP, text)
    text = _ENTITY.sub("", text)
    text = _contacts(text, _GAP, _GAP, _GAP, _GAP)
    named = False
    if pattern := names_pattern(names):
        replaced = pattern.sub(_NAME, text)
        named = replaced != text
        text = replaced
    text = _MARKUP.sub("", text).replace("<", "‹").replace(">", "›")
    text = _SPACE.sub(" ", text)
    broken = bool(_DANGLING.search(text)) or len(_WORDS.findall(text.replace(_GAP, " "))) < 3
    text = text.replace(_NAME, "a team member")
    text = re.sub(rf"\s*{_GAP}[\s{_GAP}]*", " ", text)
    text = re.sub(r"\(\s*\)", "", text)
    text = re.sub(r"\s+([.,;:!?)])", r"\1", text)
    text = _SPACE.sub(" ", text).strip().rstrip(",;:–—- ")
    text = text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
    return Cleaned(text, broken, named)


def inert(text: str, names: Iterable[str] = (), limit: int = 300) -> str:
    """Text safe to show in any channel: no links, e-mail or IP addresses, phone numbers,
    @mentions, Slack control sequences, markdown, HTML or entities, and none of `names`."""
    return clean(text, names, limit).text


def model_line(text: str, names: Iterable[str] = (), limit: int = 300) -> str | None:
    """A line of the model's answer as a coach may read it, or None when what had to be
    removed took its meaning with it."""
    cleaned = clean(text, names, limit)
    return None if cleaned.broken else cleaned.text


def redact(text: str, names: Iterable[str]) -> str:
    """A comment as the model (or, shown as written, the coach) sees it: names and
    contact details replaced by placeholders, length capped."""
    text = normalise(text)
    text = _contacts(text, "[link]", "[email]", "[phone]", "[name]")
    if pattern := names_pattern(names):
        text = pattern.sub("[name]", text)
    return text[:MAX_COMMENT_CHARS]


PLACEHOLDERS = re.compile(r"\[(?:name|link|email|phone)\]")
