"""Imports every table module so SQLModel.metadata knows the whole schema."""

from storage import (  # noqa: F401
    commitment_models,
    digest_models,
    models,
    pulse_models,
    schedule_models,
    slack_models,
)
