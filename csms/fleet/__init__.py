"""The fleet: the vehicle model catalogue (``catalogue``), the operator's vehicle registry
(``registry``) and which registered vehicle a session is charging (``identify``)."""
