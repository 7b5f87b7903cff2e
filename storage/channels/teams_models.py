"""Teams tables: where each delivered card lives in a person's Teams chat.

The conversation reference itself (service URL, conversation, tenant, bot) is a
person's `ChatAddress` with channel "teams" (storage/core/models.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Integer, UniqueConstraint
from sqlmodel import Field, SQLModel

from storage.core.models import created_column


class TeamsMessage(SQLModel, table=True):
    """The activity id of a person's card with a given ref, so the next message with
    that ref updates the card (update_activity) instead of posting a second one."""

    __tablename__ = "teams_message"
    __table_args__ = (UniqueConstraint("person_id", "ref"),)
    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(
        sa_column=Column(Integer, ForeignKey("person.id", ondelete="CASCADE"), nullable=False)
    )
    ref: str = Field(max_length=200)
    conversation_id: str = Field(max_length=400)
    activity_id: str = Field(max_length=200)
    updated_at: datetime = created_column()
