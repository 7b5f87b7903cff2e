"""Imports every table module so SQLModel.metadata knows the whole schema."""

from storage import models, pulse_models, schedule_models  # noqa: F401
