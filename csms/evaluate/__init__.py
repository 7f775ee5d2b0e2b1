"""`csms evaluate`: run the smart-charging policies on a scenario or on ACN-Data sessions.

Scenario JSON -> ``Scenario`` -> arrays (``csms.charging.Problem``, the tariff turned into prices)
-> each policy (oracle or online) -> KPIs (``metrics``) -> table, JSON or plot.
"""
