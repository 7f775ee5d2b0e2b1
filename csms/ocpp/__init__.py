"""OCPP-J edge: websocket server, framing, schema validation and the 1.6 / 2.0.1 adapters.

Imports nothing from store, web or charging: it speaks domain events and commands only.
"""
