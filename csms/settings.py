"""Process settings (pydantic-settings): every option is also an env var with the CSMS_ prefix.

Each tunable carries its unit in its name.
"""

from __future__ import annotations

import json
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CSMS_", extra="ignore")

    database_url: str = "sqlite:///./csms.db"
    host: str = "127.0.0.1"
    http_port: int = 8000
    ocpp_port: int = 9000
    open: bool = Field(False, description="lab mode: accept any charger identity and id token")
    migrate: bool = True
    control: bool = Field(True, description="run the smart-charging control loop")

    # Gateway tunables (docs/architecture.md, "The OCPP-J gateway").
    ping_interval_s: float | None = 60.0
    ping_timeout_s: float | None = 60.0
    call_timeout_s: float = 30.0
    heartbeat_interval_s: int = 300
    validate_inline: bool = True  # ocpp.messages.ASYNC_VALIDATION = not validate_inline
    compression: bool = False
    max_frame_bytes: int = 65536
    # Per-charger quotas (csms/ocpp/quota.py): over them, frames are answered later.
    charger_messages_per_s: float = Field(20.0, gt=0, description="sustained, per charger")
    charger_message_burst: int = Field(1000, ge=1, description="e.g. an offline replay")
    charger_bytes_per_s: float = Field(65536.0, gt=0, description="sustained, per charger")
    charger_byte_burst: int = Field(4 * 2**20, ge=65536, description="bytes at once")
    loop_lag_warn_s: float = Field(0.25, gt=0, description="an event-loop lag over this is "
                                   "logged (csms/loop_lag.py)")
    charger_samples_per_s: float = Field(100.0, gt=0, description="meter samples (stored "
                                         "rows), sustained, per charger")
    charger_sample_burst: int = Field(20_000, ge=100, description="meter samples at once, "
                                      "e.g. a day of queued MeterValues")
    charger_bytes_per_day: float = Field(256 * 2**20, ge=2**20, description="rolling day, "
                                         "per charger (estimated: MeterValues of 30 values, "
                                         "~3 kB, every 10 s come to ~26 MB a day)")
    # Failed-authentication throttling (csms/throttle.py) and trusted proxies (csms/proxy.py).
    auth_failures_per_minute: int = Field(10, ge=1, description="free failures per identity "
                                          "and network, then a doubling backoff")
    auth_backoff_max_s: float = Field(300.0, gt=0, description="longest backoff")
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="addresses/CIDRs whose X-Forwarded-For is believed")
    proxy_protocol: bool = Field(False, description="the trusted proxies send a PROXY header "
                                 "(HAProxy send-proxy / send-proxy-v2) on the plain OCPP port")

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _proxies(cls, value):
        """A JSON list or a comma-separated string (CSMS_TRUSTED_PROXIES)."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    # TLS for security profiles 2 and 3 (csms/tls.py) and the CA that signs charger CSRs
    # (csms/certificates.py). Paths to PEM files; no TLS listener without tls_cert.
    tls_cert: str | None = None
    tls_key: str | None = None
    tls_client_ca: str | None = Field(None, description="CA bundle charger certificates chain to")
    ocpp_tls_port: int = 9443
    tls_require_org: str | None = Field(None, description="required O of charger certificates")
    ca_cert: str | None = None
    ca_key: str | None = None

    # Demo clock: simulated seconds per wall second, and ISO start time.
    speed: float = 1.0
    start: str | None = None

    secret_key: str = Field("", description="signs console cookies; random per process if empty")

    # HTTP connection limits (csms.web.connections): slow or many clients of the console and
    # API can never take the descriptors the OCPP gateway needs.
    http_max_connections: int = Field(512, ge=8, description="open HTTP connections at most")
    http_head_timeout_s: float = Field(10.0, gt=0, description="request line and headers")
    http_body_timeout_s: float = Field(30.0, gt=0, description="between two body pieces")

    # Retention (csms.retention), in days of CSMS time; 0 keeps forever.
    retention_meter_days: float = Field(0.0, ge=0, description="meter samples, site-load records")
    retention_control_days: float = Field(7.0, ge=0, description="the control loop's commands")
    retention_frames_days: float = Field(7.0, ge=0, description="the in-memory OCPP frame log")


def load(**overrides) -> Settings:
    """Settings from env vars, with explicit (CLI) overrides that are not None."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
