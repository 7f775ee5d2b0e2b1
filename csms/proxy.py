"""Client addresses behind reverse proxies: X-Forwarded-For is believed only from the proxies the
operator configured (CSMS_TRUSTED_PROXIES), never from anyone else, so a client cannot pick the
address it is throttled or logged under."""

from __future__ import annotations

import ipaddress


class TrustedProxies:
    def __init__(self, networks: list[str] | tuple[str, ...] = ()) -> None:
        self.networks = tuple(ipaddress.ip_network(n.strip(), strict=False) for n in networks
                              if n.strip())

    def trusted(self, address: str) -> bool:
        try:
            ip = ipaddress.ip_address(address.strip("[]"))
        except ValueError:
            return False
        return any(ip in net for net in self.networks)

    def client(self, peer: str, forwarded_for: str | None) -> str:
        """The client's address: the peer's, or - when the peer is a trusted proxy - the
        rightmost X-Forwarded-For hop that is not itself a trusted proxy (hops left of it may
        be forged by the client)."""
        if not forwarded_for or not self.trusted(peer):
            return peer
        hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
        for hop in reversed(hops):
            if not self.trusted(hop):
                return hop if _is_ip(hop) else peer
        return hops[0] if hops and _is_ip(hops[0]) else peer


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return False
    return True


class ForwardedFor:
    """ASGI middleware: the request's client is the one a trusted proxy forwarded for (the
    console's login throttle and logs then see the real client, never a forged one)."""

    def __init__(self, app, proxies: TrustedProxies) -> None:
        self.app, self.proxies = app, proxies

    async def __call__(self, scope, receive, send):
        if scope["type"] in ("http", "websocket") and scope.get("client"):
            forwarded = [v.decode("latin-1") for k, v in scope["headers"]
                         if k == b"x-forwarded-for"]
            if forwarded:
                peer = scope["client"][0]
                client = self.proxies.client(peer, ",".join(forwarded))
                if client != peer:
                    scope = {**scope, "client": (client, 0)}
        await self.app(scope, receive, send)
