"""Imports every table module so SQLModel.metadata knows the whole schema."""

from storage.channels import slack_models, teams_models  # noqa: F401
from storage.commitments import models as commitment_models  # noqa: F401
from storage.contracts import models as contract_models  # noqa: F401
from storage.core import lane_models, models, schedule_models  # noqa: F401
from storage.digests import models as digest_models  # noqa: F401
from storage.pulse import models as pulse_models  # noqa: F401
