"""What the consent log keeps about the visitor, minimised: the Global Privacy Control flag,
an IP prefix (never the full address) and a truncated user agent."""

import ipaddress

from django.http import HttpRequest

from . import conf

USER_AGENT_LENGTH = 256


def gpc_signal(request: HttpRequest) -> bool:
    """Global Privacy Control: the `Sec-GPC: 1` request header."""
    return request.META.get("HTTP_SEC_GPC", "").strip() == "1"


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or the X-Forwarded-For entry appended by the
    last of CONSENT_TRUSTED_PROXIES proxies (entries further left can be forged)."""
    proxies = conf.get("CONSENT_TRUSTED_PROXIES")
    if proxies:
        forwarded = [part.strip() for part in request.headers.get("X-Forwarded-For", "").split(",")]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")


def ip_prefix(request: HttpRequest) -> str:
    """IPv4 /24 or IPv6 /48: enough to show a decision came from a plausible network,
    too little to identify a household."""
    client = client_ip(request)
    # The common case, a plain IPv4 address, without ipaddress (slow to parse, on every
    # decision); anything else, or anything ipaddress would refuse, takes the full path.
    octets = client.split(".")
    if len(octets) == 4 and all(
        o.isdigit() and o.isascii() and int(o) < 256 and (o == "0" or o[0] != "0") for o in octets
    ):
        return f"{octets[0]}.{octets[1]}.{octets[2]}.0/24"
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return ""
    if address.version == 6 and address.ipv4_mapped:
        address = address.ipv4_mapped
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))


def user_agent(request: HttpRequest) -> str:
    return request.META.get("HTTP_USER_AGENT", "")[:USER_AGENT_LENGTH]
