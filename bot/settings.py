"""One typed settings object, loaded once from the environment (and an optional .env)."""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path
from typing import Literal, Self

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATA_DIR = Path("data")
# chat.postMessage per Slack workspace and minute; Slack publishes no exact figure.
SLACK_POSTS_PER_MINUTE = 600.0
TEAMS_SENDS_PER_SECOND = 30.0


class Settings(BaseSettings):
    """Every knob of pulsecoach. A channel whose settings are absent is simply off."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    data_dir: Path = Field(DEFAULT_DATA_DIR, validation_alias="PULSECOACH_DATA_DIR")
    database_url: str = Field("", validation_alias="PULSECOACH_DATABASE_URL")
    secret_key: SecretStr | None = Field(None, validation_alias="PULSECOACH_SECRET_KEY")
    host: str = Field("127.0.0.1", validation_alias="PULSECOACH_HOST")
    port: int = Field(8000, ge=0, le=65535, validation_alias="PULSECOACH_PORT")
    public_url: str = Field("", validation_alias="PULSECOACH_PUBLIC_URL")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        "INFO", validation_alias="PULSECOACH_LOG_LEVEL"
    )
    # "json": one JSON object a line (a log collector); "text": plain lines.
    log_format: Literal["text", "json"] = Field("text", validation_alias="PULSECOACH_LOG_FORMAT")
    # SIGTERM/SIGINT: how long `serve` may take to finish or hand back its work.
    shutdown_seconds: float = Field(
        20.0, gt=0, le=300, validation_alias="PULSECOACH_SHUTDOWN_SECONDS"
    )
    instrument_dirs: str = Field("", validation_alias="PULSECOACH_INSTRUMENT_DIRS")
    # The local web chat: on by default only while no chat platform is configured.
    local_channel: bool | None = Field(None, validation_alias="PULSECOACH_LOCAL_CHANNEL")
    dispatch_seconds: float = Field(
        15.0, gt=0, le=3600, validation_alias="PULSECOACH_DISPATCH_SECONDS"
    )
    leader_probe_seconds: float = Field(
        10.0, gt=0, le=25, validation_alias="PULSECOACH_LEADER_PROBE_SECONDS"
    )
    retention_days: int = Field(400, ge=30, le=3650, validation_alias="PULSECOACH_RETENTION_DAYS")
    send_seconds: float = Field(1.0, gt=0, le=60, validation_alias="PULSECOACH_SEND_SECONDS")
    # How long a process's hold on a workspace's sending lane lasts unrenewed: how soon
    # another process sends it after this one stops answering (PostgreSQL).
    lane_lease_seconds: float = Field(
        20.0, ge=3, le=300, validation_alias="PULSECOACH_LANE_LEASE_SECONDS"
    )

    slack_bot_token: SecretStr | None = Field(None, validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(None, validation_alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(None, validation_alias="SLACK_APP_TOKEN")
    slack_client_id: str | None = Field(None, validation_alias="SLACK_CLIENT_ID")
    slack_client_secret: SecretStr | None = Field(None, validation_alias="SLACK_CLIENT_SECRET")
    slack_api_url: str | None = Field(None, validation_alias="SLACK_API_URL")
    slack_posts_per_minute: float = Field(
        SLACK_POSTS_PER_MINUTE, gt=0, validation_alias="PULSECOACH_SLACK_POSTS_PER_MINUTE"
    )

    microsoft_app_id: str | None = Field(None, validation_alias="MICROSOFT_APP_ID")
    microsoft_app_password: SecretStr | None = Field(
        None, validation_alias="MICROSOFT_APP_PASSWORD"
    )
    microsoft_app_tenant_id: str | None = Field(None, validation_alias="MICROSOFT_APP_TENANT_ID")
    microsoft_app_type: Literal["MultiTenant", "SingleTenant", "UserAssignedMSI"] | None = Field(
        None, validation_alias="MICROSOFT_APP_TYPE"
    )
    # "dev": Teams without an app id and without any token validation (the Bot
    # Framework Emulator, a stand-in); said loudly at start and in /healthz.
    teams_mode: Literal["", "dev"] = Field("", validation_alias="PULSECOACH_TEAMS")
    # Sends per second and tenant: Teams publishes 30-50 per app and tenant.
    teams_sends_per_second: float = Field(
        TEAMS_SENDS_PER_SECOND, gt=0, le=50, validation_alias="PULSECOACH_TEAMS_SENDS_PER_SECOND"
    )

    openai_api_key: SecretStr | None = Field(None, validation_alias="OPENAI_API_KEY")
    openai_base_url: str | None = Field(None, validation_alias="OPENAI_BASE_URL")
    llm_model: str = Field(
        "gpt-4o-mini", validation_alias=AliasChoices("PULSECOACH_LLM_MODEL", "llm_model")
    )

    @field_validator("database_url")
    @classmethod
    def _known_database(cls, value: str) -> str:
        if value and not value.startswith(("sqlite", "postgresql")):
            raise ValueError("must start with sqlite:// or postgresql://")
        return value

    @field_validator("slack_api_url", "openai_base_url", "public_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @model_validator(mode="after")
    def _slack_can_send(self) -> Self:
        """Slack switched on must be able to send: else every message would fail as
        "not installed" and switch its recipient off."""
        if not self.slack_enabled:
            return self
        oauth = bool(self.slack_client_id and _given(self.slack_client_secret))
        if not oauth and not _given(self.slack_bot_token):
            on = "SLACK_SIGNING_SECRET" if self.slack_signing_secret else "SLACK_APP_TOKEN"
            raise ValueError(
                f"{on} is set, so Slack also needs SLACK_BOT_TOKEN (one workspace) or "
                "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET (installs over OAuth)"
            )
        if oauth and not _given(self.secret_key):
            raise ValueError(
                "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET also need PULSECOACH_SECRET_KEY: "
                "Slack tokens are stored encrypted with a key derived from it"
            )
        return self

    @property
    def effective_database_url(self) -> str:
        """The configured URL, or a SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'pulsecoach.db').as_posix()}"

    @property
    def slack_enabled(self) -> bool:
        return bool(self.slack_signing_secret or self.slack_app_token)

    @model_validator(mode="after")
    def _teams_can_sign_in(self) -> Self:
        """An app id without its password would validate incoming tokens and then fail
        every send; UserAssignedMSI needs none (a managed identity)."""
        if (
            self.microsoft_app_id
            and not _given(self.microsoft_app_password)
            and self.microsoft_app_type != "UserAssignedMSI"
        ):
            raise ValueError(
                "MICROSOFT_APP_ID is set, so Teams also needs MICROSOFT_APP_PASSWORD "
                "(or MICROSOFT_APP_TYPE=UserAssignedMSI)"
            )
        return self

    @property
    def teams_dev(self) -> bool:
        """Teams without token validation: PULSECOACH_TEAMS=dev and no app id."""
        return self.teams_mode == "dev" and not self.microsoft_app_id

    @property
    def teams_enabled(self) -> bool:
        return bool(self.microsoft_app_id) or self.teams_dev

    @property
    def llm_enabled(self) -> bool:
        return bool(self.openai_api_key or self.openai_base_url)

    @property
    def local_enabled(self) -> bool:
        if self.local_channel is not None:
            return self.local_channel
        return not (self.slack_enabled or self.teams_enabled)

    def enabled_channels(self) -> list[str]:
        channels = ["local (loopback only)"] if self.local_enabled else []
        if self.slack_enabled:
            channels.append("slack (socket mode)" if self.slack_app_token else "slack (http)")
        if self.teams_dev:
            channels.append("teams (DEV MODE: no token validation)")
        elif self.teams_enabled:
            channels.append("teams")
        return channels


def _given(secret: SecretStr | None) -> bool:
    return bool(secret and secret.get_secret_value())


# Field name -> environment variable, for one-line error messages.
def _env_name(field: str) -> str:
    info = Settings.model_fields.get(field)
    alias = info.validation_alias if info else None
    if isinstance(alias, str):
        return alias
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    return field


class SettingsError(SystemExit):
    """Stops the program with one line naming the variable and what is wrong."""


def describe_error(error: ValidationError) -> str:
    first = error.errors()[0]
    message = first["msg"].removeprefix("Value error, ")
    if not first["loc"]:  # a rule across settings: its message names the variables
        return f"configuration error: {message}"
    return f"configuration error: {_env_name(str(first['loc'][0]))}: {message}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        print(describe_error(error), file=sys.stderr)
        raise SettingsError(2) from None
