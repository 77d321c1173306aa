"""search: the full-text index, indexed filter columns and an append-only event log

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 10:00:00.000000

``letters`` gains the filter columns ``letter_date`` (the letter's date, else the receipt date),
``sender_norm`` and ``aktenzeichen_norm`` (as the search compares them), with indexes. The
full-text index is an FTS5 table ``letters_fts`` on SQLite and the ``tsvector`` column
``letters.search_vector`` with a GIN index on PostgreSQL; ``schemas/search.py`` says what they
hold. Existing letters are indexed here. Triggers refuse any UPDATE or DELETE of ``events``.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from schemas.search import index_letters

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BATCH = 500
APPEND_ONLY = "the event log is append-only: events are never changed or deleted"


def upgrade() -> None:
    with op.batch_alter_table("letters", schema=None) as batch_op:
        batch_op.add_column(sa.Column("letter_date", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("sender_norm", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("aktenzeichen_norm", sa.String(length=128), nullable=True))
        batch_op.create_index(batch_op.f("ix_letters_letter_date"), ["letter_date"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_letters_aktenzeichen_norm"), ["aktenzeichen_norm"], unique=False
        )
        batch_op.create_index(
            "ix_letters_doc_type_letter_date", ["doc_type", "letter_date"], unique=False
        )
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("ALTER TABLE letters ADD COLUMN search_vector tsvector")
        op.execute("CREATE INDEX ix_letters_search ON letters USING gin (search_vector)")
        op.execute(
            "CREATE FUNCTION events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{APPEND_ONLY}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events "
            "FOR EACH ROW EXECUTE FUNCTION events_append_only()"
        )
    else:
        op.execute(
            "CREATE VIRTUAL TABLE letters_fts USING fts5("
            "fields, body, body_plain, tokenize = 'unicode61 remove_diacritics 2')"
        )
        # ranked by bm25, the fields (sender, Aktenzeichen, type, ...) weighing four times the text
        op.execute(
            "INSERT INTO letters_fts (letters_fts, rank) VALUES ('rank', 'bm25(4.0, 1.0, 1.0)')"
        )
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER events_no_{action.lower()} BEFORE {action} ON events "
                f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
            )
    seqs = [row[0] for row in bind.execute(sa.text("SELECT seq FROM letters ORDER BY seq"))]
    for start in range(0, len(seqs), BATCH):
        index_letters(bind, seqs[start : start + BATCH])


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP TRIGGER events_append_only ON events")
        op.execute("DROP FUNCTION events_append_only()")
        op.execute("DROP INDEX ix_letters_search")
        op.execute("ALTER TABLE letters DROP COLUMN search_vector")
    else:
        op.execute("DROP TRIGGER events_no_update")
        op.execute("DROP TRIGGER events_no_delete")
        op.execute("DROP TABLE letters_fts")
    # Plain ALTER TABLE DROP COLUMN (SQLite >= 3.35): a batch copy of ``letters`` would have to
    # drop the table that ``events`` and ``disposals`` reference.
    op.drop_index("ix_letters_doc_type_letter_date", table_name="letters")
    op.drop_index("ix_letters_aktenzeichen_norm", table_name="letters")
    op.drop_index("ix_letters_letter_date", table_name="letters")
    for column in ("aktenzeichen_norm", "sender_norm", "letter_date"):
        op.execute(f"ALTER TABLE letters DROP COLUMN {column}")
