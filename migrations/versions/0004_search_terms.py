"""terminos_busqueda: word-prefix search terms for ?q= (core.search), filled for existing rows

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 10:00:00.000000

The terms of the companies, users and tickets already there are computed by the same
normalisation the app uses (backend.core.search.terms), in batches.
"""
from alembic import op
import sqlalchemy as sa

from backend.core.search import terms


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

# The searched columns as of this revision (each model's __searchable__).
SEARCHED = {
    'empresas': ('nit', 'nombre'),
    'usuarios': ('nombre', 'email'),
    'soporte_tickets': ('titulo', 'descripcion'),
}
BATCH = 2000


def upgrade():
    terminos = op.create_table('terminos_busqueda',
    sa.Column('tabla', sa.String(length=32), nullable=False),
    sa.Column('termino', sa.String(length=64).with_variant(
        sa.String(length=64, collation='utf8mb4_bin'), 'mysql', 'mariadb'), nullable=False),
    sa.Column('registro_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.PrimaryKeyConstraint('tabla', 'termino', 'registro_id', name=op.f('pk_terminos_busqueda'))
    )
    with op.batch_alter_table('terminos_busqueda', schema=None) as batch_op:
        batch_op.create_index('ix_terminos_busqueda_registro', ['tabla', 'registro_id', 'termino'],
                              unique=False)
    conn = op.get_bind()
    for tabla, columns in SEARCHED.items():
        table = sa.table(tabla, sa.column('id', sa.Integer), *(sa.column(c) for c in columns))
        last = 0
        while True:
            records = conn.execute(sa.select(table.c.id, *(table.c[c] for c in columns))
                                   .where(table.c.id > last).order_by(table.c.id).limit(BATCH)).all()
            if not records:
                break
            rows = [{'tabla': tabla, 'registro_id': record[0], 'termino': termino}
                    for record in records for termino in terms(record[1:])]
            if rows:
                conn.execute(terminos.insert(), rows)
            last = records[-1][0]


def downgrade():
    with op.batch_alter_table('terminos_busqueda', schema=None) as batch_op:
        batch_op.drop_index('ix_terminos_busqueda_registro')

    op.drop_table('terminos_busqueda')
