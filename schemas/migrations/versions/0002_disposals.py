"""disposals: the archivist's decision when a letter's retention has ended

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 10:00:00.000000

A destroyed letter keeps its ``letters`` row as a tombstone (no column change needed there: the
cleared columns are already nullable); the decision, who made it and when live here.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "disposals",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("letter_id", sa.String(length=32), nullable=False),
        sa.Column("decision", sa.String(length=16), nullable=False),
        sa.Column("decided_by", sa.String(length=128), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("retain_until", sa.Date(), nullable=True),
        sa.Column("transfer_ref", sa.Text(), nullable=True),
        sa.Column("transfer_sha256", sa.String(length=64), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("decision IN ('archive', 'destroy')", name="ck_disposals_decision"),
        sa.ForeignKeyConstraint(["letter_id"], ["letters.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("letter_id", name="uq_disposals_letter_id"),
    )


def downgrade() -> None:
    op.drop_table("disposals")
