"""correos_pendientes: mail kept while the broker or SMTP was down (core.mail_outbox)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('correos_pendientes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('plantilla', sa.String(length=64), nullable=False),
    sa.Column('ref', sa.String(length=100), nullable=True),
    sa.Column('mensaje_enc', sa.Text(), nullable=False),
    sa.Column('intentos', sa.Integer(), nullable=False),
    sa.Column('ultimo_error', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('expires_at', sa.DateTime(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(), nullable=False),
    sa.Column('claimed_until', sa.DateTime(), nullable=True),
    sa.Column('claim_token', sa.String(length=32), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_correos_pendientes'))
    )
    with op.batch_alter_table('correos_pendientes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_correos_pendientes_next_attempt_at'), ['next_attempt_at'], unique=False)


def downgrade():
    with op.batch_alter_table('correos_pendientes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_correos_pendientes_next_attempt_at'))

    op.drop_table('correos_pendientes')
