"""handoffs (due-time rows for shift starts and ends); cover_requests.notified_at

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "handoffs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("schedule_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("note_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["note_id"],
            ["handoff_notes.id"],
            name=op.f("fk_handoffs_note_id_handoff_notes"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["schedule_id"],
            ["schedules.id"],
            name=op.f("fk_handoffs_schedule_id_schedules"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_handoffs_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handoffs")),
        sa.UniqueConstraint("schedule_id", "user_id", "kind", "at", name="uq_handoffs_instant"),
    )
    op.create_index("ix_handoffs_due", "handoffs", ["status", "at"], unique=False)
    op.create_index("ix_handoffs_user_at", "handoffs", ["user_id", "at"], unique=False)
    with op.batch_alter_table("cover_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("notified_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("cover_requests", schema=None) as batch_op:
        batch_op.drop_column("notified_at")
    op.drop_index("ix_handoffs_user_at", table_name="handoffs")
    op.drop_index("ix_handoffs_due", table_name="handoffs")
    op.drop_table("handoffs")
