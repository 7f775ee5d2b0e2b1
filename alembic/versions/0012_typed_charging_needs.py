"""NotifyEVChargingNeeds records hold the typed fact: charger_events rows of that kind stored the
raw 2.0.1 / 2.1 payload (camelCase chargingNeeds); they now hold ChargingNeeds.as_json()
(csms/domain/charging_needs.py, snake_case, units in the names), which is all the CSMS reads.

The conversion is written out here rather than imported from csms/ocpp/charging_needs.py, so
that this migration keeps doing what it did when the parser changes.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 12:00:00.000000
"""
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa

from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KIND = 'NotifyEVChargingNeeds'
AC_PHASES = {'AC_single_phase': 1, 'AC_two_phase': 2, 'AC_three_phase': 3}
BIDIRECTIONAL = frozenset({'AC_BPT', 'AC_BPT_DER', 'DC_BPT', 'DC_ACDP_BPT'})
# typed field -> (OCPP parameters object, key)
NUMBERS = {
    'ac_min_current_a': ('acChargingParameters', 'evMinCurrent'),
    'ac_max_current_a': ('acChargingParameters', 'evMaxCurrent'),
    'ac_max_voltage_v': ('acChargingParameters', 'evMaxVoltage'),
    'dc_max_power_w': ('dcChargingParameters', 'evMaxPower'),
    'dc_max_current_a': ('dcChargingParameters', 'evMaxCurrent'),
    'dc_max_voltage_v': ('dcChargingParameters', 'evMaxVoltage'),
    'capacity_wh': ('dcChargingParameters', 'evEnergyCapacity'),
    'soc_pct': ('dcChargingParameters', 'stateOfCharge'),
    'max_discharge_w': ('v2xChargingParameters', 'maxDischargePower'),
    'min_v2x_energy_wh': ('v2xChargingParameters', 'evMinV2XEnergyRequest'),
    'target_energy_wh': ('v2xChargingParameters', 'evTargetEnergyRequest'),
    'target_soc_pct': ('v2xChargingParameters', 'targetSoC'),
}

def _number(value):
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def _departure(value):
    """ISO 8601 aware UTC, or None when absent or unreadable (the old reader would fail on it)."""
    if not isinstance(value, str):
        return None
    try:
        dt = datetime.fromisoformat(value.replace('Z', '+00:00'))
        return (dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)).isoformat()
    except (ValueError, OverflowError):
        return None


def typed(payload: dict) -> dict:
    needs = payload.get('chargingNeeds') or {}
    ac = needs.get('acChargingParameters') or {}
    dc = needs.get('dcChargingParameters') or {}
    requested = needs.get('requestedEnergyTransfer')
    available = list(needs.get('availableEnergyTransfer') or ())
    out = {
        'requested_transfer': requested,
        'available_transfers': available,
        'departure': _departure(needs.get('departureTime')),
        'energy_wh': _number((ac if ac else dc).get('energyAmount')),
        'ac_phases': AC_PHASES.get(requested),
        'bidirectional': bool({requested, *available} & BIDIRECTIONAL),
    }
    for name, (part, key) in NUMBERS.items():
        out[name] = _number((needs.get(part) or {}).get(key))
    return out


def raw(fact: dict, evse_id) -> dict:
    """Back to the OCPP form, with what the typed fact kept."""
    needs = {'requestedEnergyTransfer': fact.get('requested_transfer')}
    if fact.get('available_transfers'):
        needs['availableEnergyTransfer'] = fact['available_transfers']
    if fact.get('departure'):
        needs['departureTime'] = fact['departure']
    for name, (part, key) in NUMBERS.items():
        if fact.get(name) is not None:
            needs.setdefault(part, {})[key] = fact[name]
    if fact.get('energy_wh') is not None:
        part = 'acChargingParameters' if 'acChargingParameters' in needs or \
            str(fact.get('requested_transfer') or '').startswith('AC') else 'dcChargingParameters'
        needs.setdefault(part, {})['energyAmount'] = fact['energy_wh']
    out = {'chargingNeeds': needs}
    if evse_id is not None:
        out['evseId'] = evse_id
    return out


def _convert(forward: bool) -> None:
    bind = op.get_bind()
    table = sa.table('charger_events', sa.column('id', sa.Integer), sa.column('kind', sa.String),
                     sa.column('evse_id', sa.Integer), sa.column('payload', sa.JSON))
    rows = bind.execute(sa.select(table.c.id, table.c.evse_id, table.c.payload)
                        .where(table.c.kind == KIND)).all()
    for row_id, evse_id, payload in rows:
        payload = payload or {}
        is_raw = 'chargingNeeds' in payload
        if forward and is_raw:
            new = typed(payload)
        elif not forward and not is_raw:
            new = raw(payload, evse_id)
        else:
            continue
        bind.execute(table.update().where(table.c.id == row_id).values(payload=new))


def upgrade() -> None:
    _convert(forward=True)


def downgrade() -> None:
    _convert(forward=False)
