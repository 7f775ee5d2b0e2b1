"""Failed-authentication throttling that slows an attacker without locking out the owner.

A limit per identity alone let anyone lock a real charger (or an admin) out with ten wrong
passwords from anywhere. Here failures count per (identity or username, client network): the
first ``free_failures`` in a minute cost nothing, then each further failure doubles the wait
before that pair may try again (1 s, 2 s, 4 s ... up to ``backoff_max_s``), and while it waits
the attempt is refused with 429 and Retry-After without checking the password. The right
credential from another network is never held back by failures elsewhere. A network (an IPv4
address, an IPv6 /64) that fails for many identities in a minute waits as a whole: a scan of
identities from one place. Memory is bounded (oldest entries evicted first).
"""

from __future__ import annotations

import ipaddress
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field

WINDOW_S = 60.0


def network_of(address: str) -> str:
    """The unit of blame for an address: itself for IPv4, its /64 for IPv6."""
    try:
        ip = ipaddress.ip_address(address.strip("[]"))
    except ValueError:
        return address
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


@dataclass
class _Record:
    failures: deque = field(default_factory=deque)  # monotonic times within the window
    wait_until_s: float = 0.0


class AuthThrottle:
    def __init__(self, free_failures: int, backoff_max_s: float = 300.0,
                 network_failures: int | None = None, max_entries: int = 100_000) -> None:
        self.free_failures, self.backoff_max_s = free_failures, backoff_max_s
        self.network_failures = network_failures or 10 * free_failures
        self.max_entries = max_entries
        self._records: OrderedDict[tuple[str, str], _Record] = OrderedDict()

    def retry_after_s(self, principal: str, address: str) -> float:
        """Seconds this attempt must wait (0: check the credential now)."""
        now_s = time.monotonic()
        network = network_of(address)
        waits = [self._wait(("id", principal, network), now_s),
                 self._wait(("net", network), now_s)]
        return max(waits)

    def failed(self, principal: str, address: str) -> None:
        now_s = time.monotonic()
        network = network_of(address)
        self._count(("id", principal, network), now_s, self.free_failures)
        self._count(("net", network), now_s, self.network_failures)

    def succeeded(self, principal: str, address: str) -> None:
        self._records.pop(("id", principal, network_of(address)), None)

    def _wait(self, key, now_s: float) -> float:
        record = self._records.get(key)
        return max(0.0, record.wait_until_s - now_s) if record else 0.0

    def _count(self, key, now_s: float, free: int) -> None:
        record = self._records.pop(key, None) or _Record()
        self._records[key] = record  # most recent last
        failures = record.failures
        failures.append(now_s)
        while failures and now_s - failures[0] > WINDOW_S:
            failures.popleft()
        excess = len(failures) - free
        if excess > 0:
            record.wait_until_s = now_s + min(self.backoff_max_s, 2.0 ** (excess - 1))
        while len(self._records) > self.max_entries:
            self._records.popitem(last=False)
