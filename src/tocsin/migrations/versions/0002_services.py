"""services and their integrations (routing keys)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "services",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=2000), nullable=False),
        sa.Column("owner_team_id", sa.Uuid(), nullable=True),
        sa.Column("urgency_rule", sa.String(length=16), nullable=False),
        sa.Column("support_hours", sa.JSON(), nullable=True),
        sa.Column("outside_hours", sa.String(length=8), nullable=False),
        sa.Column("ack_timeout_minutes", sa.Integer(), nullable=True),
        sa.Column("auto_resolve_minutes", sa.Integer(), nullable=True),
        sa.Column("runbook_links", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_team_id"],
            ["teams.id"],
            name=op.f("fk_services_owner_team_id_teams"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_services")),
        sa.UniqueConstraint("name", name=op.f("uq_services_name")),
    )
    op.create_index(op.f("ix_services_owner_team_id"), "services", ["owner_team_id"], unique=False)
    op.create_table(
        "integrations",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("service_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("routing_key", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["service_id"],
            ["services.id"],
            name=op.f("fk_integrations_service_id_services"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integrations")),
        sa.UniqueConstraint("routing_key", name=op.f("uq_integrations_routing_key")),
    )
    op.create_index(
        op.f("ix_integrations_service_id"), "integrations", ["service_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_integrations_service_id"), table_name="integrations")
    op.drop_table("integrations")
    op.drop_index(op.f("ix_services_owner_team_id"), table_name="services")
    op.drop_table("services")
