"""List indexes: (filter column, id) for the lists that filter and read newest first

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 10:00:00.000000

With an index on (filter, id), `WHERE filter = :v ORDER BY id DESC LIMIT n` and the cursor's
`AND id < :last` read n index entries, not every row that matches (core.pagination).
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

INDEXES = [
    ('ix_auditoria_tabla_id', 'auditoria', ['tabla', 'id']),
    ('ix_auditoria_registro_id_id', 'auditoria', ['registro_id', 'id']),
    ('ix_soporte_tickets_empresa_id_id', 'soporte_tickets', ['empresa_id', 'id']),
    ('ix_soporte_tickets_estado_id', 'soporte_tickets', ['estado', 'id']),
    ('ix_soporte_tickets_prioridad_id', 'soporte_tickets', ['prioridad', 'id']),
    ('ix_usuarios_is_active_id', 'usuarios', ['is_active', 'id']),
]


def upgrade():
    for name, table, columns in INDEXES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(name, columns, unique=False)


def downgrade():
    for name, table, _ in reversed(INDEXES):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(name)
