"""SES v2 list management: who on a contact list is subscribed, and the unsubscribe link.

Contact lists and contacts live in moto's store (``CreateContactList``, ``CreateContact`` ...;
``course.backend.ses.contact_actions`` adds what moto lacks). A send with
``ListManagementOptions`` (a contact list, optionally a topic) gets an unsubscribe link per
recipient: ``{{amazonSESUnsubscribeUrl}}`` in the template data and the ``List-Unsubscribe``
headers (https://docs.aws.amazon.com/ses/latest/dg/sending-email-subscription-management.html).
Opening the link (GET, or the one-click POST of RFC 8058) at ``/_course/ses/unsubscribe``
unsubscribes the contact from the topic (from the whole list when the send named no topic), and
a later send with those options is not delivered to that contact
(https://docs.aws.amazon.com/ses/latest/dg/sending-email-list-management.html).
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from course.backend.core import moto_state
from course.backend.core.registry import Reply, on_reset, page
from course.backend.ses.identities import html_page

UNSUBSCRIBE_PATH = "/_course/ses/unsubscribe"
URL_VARIABLE = "amazonSESUnsubscribeUrl"


@dataclass(frozen=True)
class ListOptions:
    """A send's ``ListManagementOptions``, with the account and region it was sent in."""

    account_id: str
    region: str
    contact_list: str
    topic: str | None = None


def list_options(
    account_id: str, region: str, options: dict[str, Any] | None
) -> ListOptions | None:
    """The call's ``ListManagementOptions`` as ``ListOptions``, or None when it has none."""
    if not options or not options.get("ContactListName"):
        return None
    return ListOptions(account_id, region, options["ContactListName"], options.get("TopicName"))


def contact_lists(account_id: str, region: str) -> dict[str, Any]:
    """moto's contact lists of an account and region, by name."""
    return moto_state.ses(account_id, region).contacts_lists


def exists(options: ListOptions) -> bool:
    """True when the options' contact list exists."""
    return options.contact_list in contact_lists(options.account_id, options.region)


def _find(contacts: dict[str, Any], address: str) -> Any | None:
    wanted = address.lower()
    return next((c for key, c in contacts.items() if key.lower() == wanted), None)


def topic_status(contact_list: Any, contact: Any | None, topic: str) -> str:
    """OPT_IN or OPT_OUT: the contact's preference for ``topic``, else the topic's default."""
    for preference in (contact.topic_preferences if contact is not None else []) or []:
        if preference.get("TopicName") == topic:
            return str(preference.get("SubscriptionStatus", "OPT_IN"))
    for known in contact_list.topics or []:
        if known.get("TopicName") == topic:
            return str(known.get("DefaultSubscriptionStatus", "OPT_IN"))
    return "OPT_IN"


def subscribed(options: ListOptions, address: str) -> bool:
    """Whether a send with ``options`` reaches ``address``: not when the address is a contact
    who unsubscribed from everything, or opted out of the topic (by preference or default)."""
    found = contact_lists(options.account_id, options.region).get(options.contact_list)
    if found is None:
        return True
    contact = _find(found.contacts, address)
    if contact is not None and contact.unsubscribe_all:
        return False
    if options.topic is None:
        return True
    if contact is None:
        return True
    return topic_status(found, contact, options.topic) == "OPT_IN"


class Links:
    """Unsubscribe tokens: each stands for (options, address)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self._tokens: dict[str, tuple[ListOptions, str]] = {}

    def clear(self) -> None:
        """Forget every link (on reset)."""
        with self.lock:
            self._tokens.clear()

    def url(self, base_url: str, options: ListOptions, address: str) -> str:
        """The unsubscribe link for ``address`` on the backend at ``base_url``."""
        token = secrets.token_urlsafe(24)
        with self.lock:
            self._tokens[token] = (options, address)
        return f"{base_url}{UNSUBSCRIBE_PATH}?token={token}"

    def target(self, token: str) -> tuple[ListOptions, str] | None:
        """What a token unsubscribes, or None for an unknown token."""
        with self.lock:
            return self._tokens.get(token)


LINKS = Links()
on_reset(LINKS.clear)


def unsubscribe(options: ListOptions, address: str) -> bool:
    """Opt ``address`` out of the options' topic (of the whole list without one), making it a
    contact if it was none; False when the list is gone."""
    from moto.core.utils import iso_8601_datetime_with_milliseconds
    from moto.ses.models import Contact

    found = contact_lists(options.account_id, options.region).get(options.contact_list)
    if found is None:
        return False
    contact = _find(found.contacts, address)
    if contact is None:
        contact = Contact(options.contact_list, address, [], False)
        found.contacts[address] = contact
    if options.topic is None:
        contact.unsubscribe_all = True
    else:
        others = [p for p in contact.topic_preferences or [] if p.get("TopicName") != options.topic]
        contact.topic_preferences = [
            *others,
            {"TopicName": options.topic, "SubscriptionStatus": "OPT_OUT"},
        ]
    contact.last_updated_timestamp = iso_8601_datetime_with_milliseconds()
    return True


@page(UNSUBSCRIBE_PATH)
def unsubscribe_page(environ: dict[str, Any], body: bytes) -> Reply:
    """The link in a list-managed email: opening it (or the one-click POST) unsubscribes."""
    token = parse_qs(environ.get("QUERY_STRING", "")).get("token", [""])[0]
    target = LINKS.target(token)
    if target is None:
        return html_page(404, "Unknown link", "This unsubscribe link is not valid.")
    options, address = target
    if not unsubscribe(options, address):
        return html_page(404, "Unknown list", f"The contact list {options.contact_list} is gone.")
    what = f"the topic {options.topic} of" if options.topic else "every topic of"
    return html_page(
        200,
        "You have been unsubscribed",
        f"{address} will no longer receive email about {what} {options.contact_list}.",
    )
