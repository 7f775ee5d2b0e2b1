"""Site electrical model: grid connection KPIs, PV, base load and grid frequency (pure numpy)."""
