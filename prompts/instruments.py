"""Survey instruments as data: YAML files validated into frozen pydantic models.

Bundled instruments live in ``prompts/instruments/*.yaml``; admins may add their own
directories. Every refusal names the file, the line and the reason, e.g.
``team_safety.yaml:14: items[2].reverse: must be true or false`` (item indexes count
from 0, like the YAML list they point into).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from prompts.yaml_input import BadScalar, BoundedLoader, TooLarge, path_to, problem, read_text
from prompts.yaml_lines import line_of as _line_of

Stage = Literal["inclusion", "learner", "contributor", "challenger"]
STAGES: tuple[Stage, ...] = get_args(Stage)
STAGE_LABELS: dict[Stage, str] = {
    "inclusion": "Inclusion safety",
    "learner": "Learner safety",
    "contributor": "Contributor safety",
    "challenger": "Challenger safety",
}

Text = dict[StrictStr, StrictStr]
_KEY_PATTERN = r"^[a-z][a-z0-9_]*$"
_DEFAULT_ANCHORS: dict[int, tuple[str, ...]] = {
    5: ("Strongly disagree", "Disagree", "Neither agree nor disagree", "Agree", "Strongly agree"),
    7: (
        "Strongly disagree",
        "Disagree",
        "Somewhat disagree",
        "Neither agree nor disagree",
        "Somewhat agree",
        "Agree",
        "Strongly agree",
    ),
}


class InstrumentError(ValueError):
    """An instrument file that cannot be used, with where and why."""

    def __init__(self, file: Path, line: int | None, reason: str) -> None:
        self.file = file
        self.line = line
        self.reason = reason
        where = f"{file.name}:{line}" if line is not None else file.name
        super().__init__(f"{where}: {reason}")


class _At(ValueError):
    """A validator error that points below the field it was raised for."""

    def __init__(self, message: str, *subpath: str | int) -> None:
        super().__init__(message)
        self.subpath = subpath


def _localized(text: Mapping[str, str], locale: str) -> str:
    """``text`` in ``locale``, then its base language ("de" for "de-CH"), then English."""
    for candidate in (locale, locale.replace("_", "-").split("-")[0], "en"):
        if candidate in text:
            return text[candidate]
    return ""


def _require_english(value: dict[str, str]) -> dict[str, str]:
    if "en" not in value:
        raise ValueError("English ('en') text is required")
    if not value["en"].strip():
        raise _At("must not be empty", "en")
    return value


def _plain_text_as_english(value: Any) -> Any:
    return {"en": value} if isinstance(value, str) else value


class Scale(BaseModel):
    """An agree scale: 1–5 or 1–7, a label for every point."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    min: StrictInt
    max: StrictInt
    favorable_from: StrictInt
    anchors: dict[StrictInt, Text]

    @model_validator(mode="before")
    @classmethod
    def _defaults(cls, data: Any) -> Any:
        """Favorable from "Agree" (max - 1) and English anchors unless given."""
        if isinstance(data, dict) and type(data.get("max")) is int:
            data = dict(data)
            data.setdefault("favorable_from", data["max"] - 1)
            if data["max"] in _DEFAULT_ANCHORS and "anchors" not in data:
                labels = _DEFAULT_ANCHORS[data["max"]]
                data["anchors"] = {i + 1: {"en": label} for i, label in enumerate(labels)}
        return data

    @field_validator("min")
    @classmethod
    def _min_is_one(cls, value: int) -> int:
        if value != 1:
            raise ValueError("scale must start at 1")
        return value

    @field_validator("max")
    @classmethod
    def _five_or_seven(cls, value: int) -> int:
        if value not in (5, 7):
            raise ValueError("scale must be 1–5 or 1–7")
        return value

    @field_validator("favorable_from")
    @classmethod
    def _inside_scale(cls, value: int, info: ValidationInfo) -> int:
        low, high = info.data.get("min"), info.data.get("max")
        if low is not None and high is not None and not low < value <= high:
            raise ValueError(f"must be between {low + 1} and {high}")
        return value

    @field_validator("anchors")
    @classmethod
    def _every_point_labelled(cls, value: dict[int, dict[str, str]], info: ValidationInfo) -> Any:
        low, high = info.data.get("min"), info.data.get("max")
        if low is None or high is None:
            return value
        points = range(low, high + 1)
        for point in value:
            if point not in points:
                raise _At(f"point {point} is outside the scale {low}–{high}", point)
        for point in points:
            if point not in value:
                raise ValueError(f"missing a label for point {point}")
            if "en" not in value[point]:
                raise _At("English ('en') label is required", point)
        return value

    @property
    def points(self) -> list[int]:
        return list(range(self.min, self.max + 1))

    @property
    def midpoint(self) -> float:
        return (self.min + self.max) / 2

    def reverse(self, score: int) -> int:
        """The reverse-scored value of ``score`` (min + max - score)."""
        return self.min + self.max - score

    def anchor_for(self, point: int, locale: str = "en") -> str:
        return _localized(self.anchors[point], locale)


def _default_scale() -> Scale:
    return Scale.model_validate({"min": 1, "max": 7})


class Item(BaseModel):
    """One statement to agree or disagree with."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: StrictStr = Field(pattern=_KEY_PATTERN)
    text: Text
    dimension: StrictStr = Field(min_length=1)
    stage: Stage | None = None
    reverse: StrictBool = False

    _text_shorthand = field_validator("text", mode="before")(_plain_text_as_english)
    _text_english = field_validator("text")(_require_english)

    def text_for(self, locale: str = "en") -> str:
        return _localized(self.text, locale)


class Instrument(BaseModel):
    """A named list of items on one scale."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: StrictStr = Field(pattern=_KEY_PATTERN)
    version: StrictInt = Field(ge=1)
    name: Text
    intro: Text = Field(default_factory=lambda: {"en": ""})
    scale: Scale = Field(default_factory=_default_scale)
    items: tuple[Item, ...]

    _text_shorthand = field_validator("name", "intro", mode="before")(_plain_text_as_english)
    _name_english = field_validator("name")(_require_english)

    @field_validator("intro")
    @classmethod
    def _intro_english(cls, value: dict[str, str]) -> dict[str, str]:
        if "en" not in value:
            raise ValueError("English ('en') text is required")
        return value

    @field_validator("items")
    @classmethod
    def _unique_items(cls, value: tuple[Item, ...]) -> tuple[Item, ...]:
        if not value:
            raise ValueError("must have at least one item")
        seen: set[str] = set()
        for index, item in enumerate(value):
            if item.key in seen:
                raise _At(f"duplicate item key '{item.key}'", index, "key")
            seen.add(item.key)
        return value

    def item(self, key: str) -> Item:
        for item in self.items:
            if item.key == key:
                return item
        raise KeyError(f"instrument '{self.key}' has no item '{key}'")

    def items_for_stage(self, stage: Stage) -> list[Item]:
        return [item for item in self.items if item.stage == stage]

    @property
    def stages(self) -> list[Stage]:
        """The Clark stages this instrument measures, in stage order."""
        present = {item.stage for item in self.items}
        return [stage for stage in STAGES if stage in present]

    def name_for(self, locale: str = "en") -> str:
        return _localized(self.name, locale)

    def intro_for(self, locale: str = "en") -> str:
        return _localized(self.intro, locale)


# --- loading -------------------------------------------------------------------------


def _format_path(loc: Iterable[str | int]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


_REASONS = {
    "missing": "required field is missing",
    "extra_forbidden": "unknown field",
    "bool_type": "must be true or false",
    "int_type": "must be a whole number",
    "string_type": "must be text",
    "dict_type": "must be a mapping",
    "model_type": "must be a mapping",
    "tuple_type": "must be a list",
    "list_type": "must be a list",
    "string_pattern_mismatch": "must be lowercase letters, digits and _, starting with a letter",
    "string_too_short": "must not be empty",
}


def _reason(error: ErrorDetails) -> tuple[tuple[str | int, ...], str]:
    loc = tuple(part for part in error["loc"] if part != "[key]")
    ctx = error.get("ctx") or {}
    kind = error["type"]
    cause = ctx.get("error")
    if kind == "value_error" and isinstance(cause, ValueError):
        return loc + getattr(cause, "subpath", ()), str(cause)
    if kind == "literal_error":
        return loc, f"must be one of {ctx.get('expected')}"
    if kind == "greater_than_equal":
        return loc, f"must be at least {ctx.get('ge')}"
    return loc, _REASONS.get(kind, error["msg"])


def _check_duplicate_keys(file: Path, node: yaml.Node, loc: tuple[str | int, ...] = ()) -> None:
    """PyYAML silently keeps the last of two equal keys: refuse that instead."""
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            name = str(key.value)
            if name in seen:
                path = _format_path((*loc, name))
                raise InstrumentError(file, key.start_mark.line + 1, f"{path}: key appears twice")
            seen.add(name)
            _check_duplicate_keys(file, value, (*loc, name))
    elif isinstance(node, yaml.SequenceNode):
        for index, child in enumerate(node.value):
            _check_duplicate_keys(file, child, (*loc, index))


def _load(path: Path) -> tuple[Instrument, yaml.Node]:
    try:
        source = read_text(path)
    except TooLarge as exc:
        raise InstrumentError(path, None, str(exc)) from None
    except UnicodeDecodeError:
        raise InstrumentError(path, None, "not valid UTF-8 text") from None
    except OSError as exc:
        raise InstrumentError(path, None, f"cannot read file: {exc.strerror}") from None
    root: yaml.Node | None = None
    loader: BoundedLoader | None = None
    try:
        loader = BoundedLoader(source)
        root = loader.get_single_node()
        if root is None:
            raise InstrumentError(path, 1, "file is empty")
        _check_duplicate_keys(path, root)
        data = loader.construct_document(root)
    except BadScalar as exc:
        where = _format_path(path_to(root, exc.node) or ()) if root is not None else ""
        reason = f"{where}: {exc.reason}" if where else exc.reason
        raise InstrumentError(path, exc.node.start_mark.line + 1, reason) from None
    except yaml.YAMLError as exc:
        line, reason = problem(exc, source)
        raise InstrumentError(path, line, reason) from None
    finally:
        if loader is not None:
            loader.dispose()
    try:
        return Instrument.model_validate(data), root
    except ValidationError as exc:
        loc, reason = _reason(exc.errors()[0])
        where = _format_path(loc)
        raise InstrumentError(
            path, _line_of(root, loc), f"{where}: {reason}" if where else reason
        ) from None


def load_instrument(path: Path | str) -> Instrument:
    """Load and validate one instrument file; raise InstrumentError if it is unusable."""
    return _load(Path(path))[0]


def bundled_instrument_dir() -> Path:
    return Path(__file__).resolve().parent / "instruments"


def load_instruments(extra_dirs: Iterable[Path | str] = ()) -> dict[str, Instrument]:
    """The bundled instruments plus those in ``extra_dirs`` (``*.yaml``/``*.yml``), by key.

    An instrument key defined twice, including an admin file reusing a bundled key, is an
    error: a key always means one set of questions.
    """
    found: dict[str, tuple[Instrument, Path]] = {}
    for directory in (bundled_instrument_dir(), *map(Path, extra_dirs)):
        if not directory.is_dir():
            raise InstrumentError(directory, None, "instrument directory not found")
        files = sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml"))
        for file in files:
            instrument, root = _load(file)
            if instrument.key in found:
                other = found[instrument.key][1]
                raise InstrumentError(
                    file,
                    _line_of(root, ("key",)),
                    f"key: instrument '{instrument.key}' is already defined in {other}",
                )
            found[instrument.key] = (instrument, file)
    return {key: instrument for key, (instrument, _) in found.items()}


def configured_instruments() -> dict[str, Instrument]:
    """Bundled instruments plus the admin directories named in PULSECOACH_INSTRUMENT_DIRS
    (colon-separated): what a server of this installation will load."""
    extra = [d for d in os.environ.get("PULSECOACH_INSTRUMENT_DIRS", "").split(":") if d]
    return load_instruments(extra)
