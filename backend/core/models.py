"""Column helpers shared by every domain model."""
from __future__ import annotations

import enum
from datetime import UTC, date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

MONEY = sa.Numeric(12, 2)
HOURS = sa.Numeric(8, 2)


def utcnow() -> datetime:
    """Naive UTC now: MySQL DATETIME keeps no zone, so every stored time is UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


def utc_today() -> date:
    """Today in UTC, like every stored date and time (not the server's local date)."""
    return utcnow().date()


def enum_column(enum_cls: type[enum.Enum], name: str, **kwargs) -> sa.Enum:
    """A portable VARCHAR enum (values, not member names) with a CHECK constraint."""
    return sa.Enum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=24,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
        **kwargs,
    )


class StrEnum(enum.StrEnum):
    """Enum whose members compare and serialise as their wire value."""


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(sa.DateTime, default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(
        sa.DateTime, default=utcnow, onupdate=utcnow, nullable=False
    )
