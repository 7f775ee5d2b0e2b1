"""meter samples in base units: kWh -> Wh, kW -> W, kvar -> var, kvarh -> varh, kVA -> VA

The OCPP edge now stores every sample in its base unit, so nothing behind it scales again;
rows stored before keep their value, read in the new unit.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 07:25:00.000000
"""
from collections.abc import Sequence

from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BASE_UNITS = {"kWh": "Wh", "kW": "W", "kvar": "var", "kvarh": "varh", "kVA": "VA"}


def upgrade() -> None:
    for kilo, base in BASE_UNITS.items():
        op.execute(f"UPDATE meter_samples SET value = value * 1000.0, unit = '{base}' "
                   f"WHERE unit = '{kilo}'")


def downgrade() -> None:
    # Which rows were sent in kilo units is not kept: they stay in base units, which every
    # earlier revision also reads correctly (it only scaled the kilo ones).
    pass
