"""HTTP edge: REST API under /api/v1 (and the operator console). Never imports the ocpp library."""
