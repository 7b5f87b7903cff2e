"""Imports every table module so SQLModel.metadata knows the whole schema."""

from storage import models, pulse_models  # noqa: F401
