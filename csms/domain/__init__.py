"""Version-neutral domain: what a charger told us and what we tell chargers. Stdlib only."""
