"""labels: what type a letter really is, the classifier's training data

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 10:00:00.000000

One row per letter (unique ``letter_id``): the type an operator answered in review, an imported
CSV named, or a confident decision recorded as truth (``source``), who said so and when. The
letter's text stays in ``letters.text``; ``tasks/model.py`` joins the two to train.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "labels",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("letter_id", sa.String(length=32), nullable=False),
        sa.Column("doc_type", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("by", sa.String(length=128), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "source IN ('operator', 'csv', 'confident')", name="ck_labels_source"
        ),
        sa.ForeignKeyConstraint(["letter_id"], ["letters.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("letter_id", name="uq_labels_letter_id"),
    )


def downgrade() -> None:
    op.drop_table("labels")
