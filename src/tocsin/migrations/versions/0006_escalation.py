"""escalation policies and states, contact methods, notification rules, test pages,
watchdog alarms; services.escalation_policy_id; outbound_messages.kind and incident_id

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "engine_alarms",
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cleared_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("kind", name=op.f("pk_engine_alarms")),
    )
    op.create_table(
        "contact_methods",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("address", sa.String(length=2048), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("code_hash", sa.String(length=64), nullable=True),
        sa.Column("code_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("code_attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_contact_methods_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_methods")),
    )
    with op.batch_alter_table("contact_methods", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_contact_methods_user_id"), ["user_id"], unique=False)

    op.create_table(
        "escalation_policies",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.String(length=2000), nullable=False),
        sa.Column("team_id", sa.Uuid(), nullable=True),
        sa.Column("repeat", sa.Integer(), nullable=False),
        sa.Column("levels", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["team_id"],
            ["teams.id"],
            name=op.f("fk_escalation_policies_team_id_teams"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalation_policies")),
        sa.UniqueConstraint("name", name=op.f("uq_escalation_policies_name")),
    )
    with op.batch_alter_table("escalation_policies", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_escalation_policies_team_id"), ["team_id"], unique=False
        )

    op.create_table(
        "notification_rules",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("urgency", sa.String(length=8), nullable=False),
        sa.Column("delay_minutes", sa.Integer(), nullable=False),
        sa.Column("contact_method_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_method_id"],
            ["contact_methods.id"],
            name=op.f("fk_notification_rules_contact_method_id_contact_methods"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_notification_rules_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notification_rules")),
    )
    with op.batch_alter_table("notification_rules", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notification_rules_user_id"), ["user_id"], unique=False
        )

    op.create_table(
        "test_pages",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("contact_method_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["contact_method_id"],
            ["contact_methods.id"],
            name=op.f("fk_test_pages_contact_method_id_contact_methods"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_test_pages_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_test_pages")),
    )
    with op.batch_alter_table("test_pages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_test_pages_contact_method_id"), ["contact_method_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_test_pages_user_id"), ["user_id"], unique=False)

    op.create_table(
        "escalation_states",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("incident_id", sa.Uuid(), nullable=False),
        sa.Column("policy_id", sa.Uuid(), nullable=True),
        sa.Column("policy_name", sa.String(length=100), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("loop", sa.Integer(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("next_step_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rotation", sa.JSON(), nullable=False),
        sa.Column("paged_user_ids", sa.JSON(), nullable=False),
        sa.Column("unreachable_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unreachable", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["incident_id"],
            ["incidents.id"],
            name=op.f("fk_escalation_states_incident_id_incidents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["policy_id"],
            ["escalation_policies.id"],
            name=op.f("fk_escalation_states_policy_id_escalation_policies"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalation_states")),
        sa.UniqueConstraint("incident_id", name=op.f("uq_escalation_states_incident_id")),
    )
    with op.batch_alter_table("escalation_states", schema=None) as batch_op:
        batch_op.create_index("ix_escalation_states_due", ["status", "next_step_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_escalation_states_policy_id"), ["policy_id"], unique=False
        )

    with op.batch_alter_table("outbound_messages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), nullable=False, server_default="message")
        )
        batch_op.add_column(sa.Column("incident_id", sa.Uuid(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_outbound_messages_incident_id"), ["incident_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_outbound_messages_incident_id_incidents"),
            "incidents",
            ["incident_id"],
            ["id"],
            ondelete="SET NULL",
        )

    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.add_column(sa.Column("escalation_policy_id", sa.Uuid(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_services_escalation_policy_id"), ["escalation_policy_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_services_escalation_policy_id_escalation_policies"),
            "escalation_policies",
            ["escalation_policy_id"],
            ["id"],
            ondelete="SET NULL",
        )

    # ### end Alembic commands ###


def downgrade() -> None:
    with op.batch_alter_table("services", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_services_escalation_policy_id_escalation_policies"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_services_escalation_policy_id"))
        batch_op.drop_column("escalation_policy_id")

    with op.batch_alter_table("outbound_messages", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_outbound_messages_incident_id_incidents"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_outbound_messages_incident_id"))
        batch_op.drop_column("incident_id")
        batch_op.drop_column("kind")

    with op.batch_alter_table("escalation_states", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_escalation_states_policy_id"))
        batch_op.drop_index("ix_escalation_states_due")

    op.drop_table("escalation_states")
    with op.batch_alter_table("test_pages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_test_pages_user_id"))
        batch_op.drop_index(batch_op.f("ix_test_pages_contact_method_id"))

    op.drop_table("test_pages")
    with op.batch_alter_table("notification_rules", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notification_rules_user_id"))

    op.drop_table("notification_rules")
    with op.batch_alter_table("escalation_policies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_escalation_policies_team_id"))

    op.drop_table("escalation_policies")
    with op.batch_alter_table("contact_methods", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_contact_methods_user_id"))

    op.drop_table("contact_methods")
    op.drop_table("engine_alarms")
    # ### end Alembic commands ###
