"""Public DNS as SES sees it on the local backend: the records of moto's Route 53 hosted zones.

AWS checks a domain's DKIM CNAME records, its ``_amazonses`` TXT record and a MAIL FROM
domain's MX record with public DNS lookups. On the local backend the only DNS is Route 53, so a
name resolves to the records of the *public* hosted zone that is most specific for it (a private
zone answers only inside its VPCs, never SES's lookups). Values are returned without the trailing
dot of a domain name and without the quotes Route 53 keeps around TXT strings.
"""

from __future__ import annotations

from typing import Any

from course.backend.core import moto_state


def _zones(account_id: str) -> list[Any]:
    try:
        backend = moto_state.route53(account_id)
    except KeyError:
        return []
    return [z for z in backend.zones.values() if not z.private_zone]


def _norm(name: str) -> str:
    return name.strip().rstrip(".").lower()


def _value(raw: Any, record_type: str) -> str:
    text = (raw.get("Value", "") if isinstance(raw, dict) else str(raw)).strip()
    if record_type == "TXT" and len(text) >= 2 and text[0] == text[-1] == '"':
        # a long TXT value may be split into quoted strings: "abc" "def" is abcdef
        return "".join(text[1:-1].split('" "'))
    if record_type in ("CNAME", "MX"):
        return text.rstrip(".").lower()
    return text


def authoritative_zones(account_id: str, name: str) -> list[Any]:
    """The public hosted zones whose name is the longest suffix of ``name`` (AWS allows several)."""
    target = _norm(name)
    best: list[Any] = []
    best_len = -1
    for zone in _zones(account_id):
        zone_name = _norm(zone.name)
        if target == zone_name or target.endswith("." + zone_name):
            if len(zone_name) > best_len:
                best, best_len = [zone], len(zone_name)
            elif len(zone_name) == best_len:
                best.append(zone)
    return best


def lookup(account_id: str, name: str, record_type: str) -> list[str]:
    """The values of the ``record_type`` records named ``name`` in public DNS (Route 53)."""
    target, kind = _norm(name), record_type.upper()
    values: list[str] = []
    for zone in authoritative_zones(account_id, name):
        for rrset in zone.rrsets:
            if _norm(rrset.name) == target and (rrset.type or "").upper() == kind:
                values.extend(_value(v, kind) for v in (rrset.records or []))
    return values


def mx_hosts(account_id: str, name: str) -> list[tuple[int, str]]:
    """The MX records of ``name`` as (preference, host) pairs."""
    found = []
    for value in lookup(account_id, name, "MX"):
        parts = value.split()
        if len(parts) == 2 and parts[0].isdigit():
            found.append((int(parts[0]), _norm(parts[1])))
    return found
