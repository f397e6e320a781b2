"""SES v2 contact lists and contacts: what moto lacks or answers otherwise than AWS.

moto keeps contact lists and contacts (``CreateContactList``, ``CreateContact``, ``GetContact``,
``ListContacts``, ``DeleteContact`` ...) but has no ``UpdateContact`` or ``UpdateContactList``
(HTTP 404), overwrites an existing list or contact on create, allows any number of lists,
leaves a contact's ``TopicDefaultPreferences`` empty and ignores the ``ListContacts`` filter.
Here, as the SES v2 API reference and the list management guide say
(https://docs.aws.amazon.com/ses/latest/dg/sending-email-list-management.html):

- "Only one contact list is allowed per AWS account": a second ``CreateContactList`` in the
  region fails with ``LimitExceededException``; creating a list or contact that exists fails
  with ``AlreadyExistsException``;
- ``UpdateContact`` replaces a contact's ``TopicPreferences``, ``UnsubscribeAll`` and
  ``AttributesData``; ``UpdateContactList`` its ``Topics`` and ``Description``;
- ``GetContact`` gives the list's topics' default statuses as ``TopicDefaultPreferences``;
- ``ListContacts`` with ``Filter`` gives the contacts whose status for ``TopicFilter.TopicName``
  (their preference, or with ``UseDefaultIfPreferenceUnavailable`` the topic's default) is
  ``FilteredStatus``.
"""

from __future__ import annotations

from typing import Any

from course.backend.core.registry import ApiRequest, Reply, before, success
from course.backend.ses.contacts import contact_lists, topic_status
from course.backend.ses.exceptions import (
    AlreadyExistsException,
    LimitExceededException,
    NotFoundException,
)


def _lists(request: ApiRequest) -> dict[str, Any]:
    return contact_lists(request.account_id, request.call.region)


def _list(request: ApiRequest) -> Any:
    name = request.params.get("ContactListName", "")
    found = _lists(request).get(name)
    if found is None:
        raise NotFoundException(f"List with name: {name} doesn't exist.")
    return found


def _contact(request: ApiRequest, contact_list: Any) -> Any:
    address = request.params.get("EmailAddress", "")
    found = contact_list.contacts.get(address)
    if found is None:
        raise NotFoundException(f"{address} doesn't exist in List.")
    return found


def _now() -> str:
    from moto.core.utils import iso_8601_datetime_with_milliseconds

    return iso_8601_datetime_with_milliseconds()


def _defaults(contact_list: Any) -> list[dict[str, str]]:
    return [
        {
            "TopicName": topic.get("TopicName", ""),
            "SubscriptionStatus": topic.get("DefaultSubscriptionStatus", "OPT_IN"),
        }
        for topic in contact_list.topics or []
    ]


@before("sesv2", "CreateContactList")
def create_contact_list(request: ApiRequest) -> Reply | None:
    """Refuse a list that exists, or a second list in the account; else moto creates it."""
    name = request.params.get("ContactListName", "")
    lists = _lists(request)
    if name in lists:
        raise AlreadyExistsException(f"List with name: {name} already exists.")
    if lists:
        raise LimitExceededException(
            "Only one contact list is allowed per account: delete "
            f"{next(iter(lists))} before creating another."
        )
    return None


@before("sesv2", "UpdateContactList")
def update_contact_list(request: ApiRequest) -> Reply:
    """Replace a list's topics and description."""
    contact_list = _list(request)
    p = request.params
    contact_list.topics = list(p.get("Topics") or [])
    if "Description" in p:
        contact_list.description = p["Description"]
    contact_list.last_updated_timestamp = _now()
    return success(request.call, {})


@before("sesv2", "CreateContact")
def create_contact(request: ApiRequest) -> Reply | None:
    """Refuse a contact that is on the list already; else moto creates it."""
    contact_list = _list(request)
    address = request.params.get("EmailAddress", "")
    if address in contact_list.contacts:
        raise AlreadyExistsException(f"Contact already exists in list {address}.")
    return None


@before("sesv2", "UpdateContact")
def update_contact(request: ApiRequest) -> Reply:
    """Replace a contact's topic preferences, UnsubscribeAll and attributes."""
    contact = _contact(request, _list(request))
    p = request.params
    contact.topic_preferences = list(p.get("TopicPreferences") or [])
    contact.unsubscribe_all = bool(p.get("UnsubscribeAll", False))
    contact.attributes_data = p.get("AttributesData")
    contact.last_updated_timestamp = _now()
    return success(request.call, {})


def _described(contact_list: Any, contact: Any) -> dict[str, Any]:
    output = dict(contact.response_object)
    output["TopicDefaultPreferences"] = _defaults(contact_list)
    if getattr(contact, "attributes_data", None):
        output["AttributesData"] = contact.attributes_data
    return output


@before("sesv2", "GetContact")
def get_contact(request: ApiRequest) -> Reply:
    """A contact, with the list's topic defaults."""
    contact_list = _list(request)
    return success(request.call, _described(contact_list, _contact(request, contact_list)))


@before("sesv2", "ListContacts")
def list_contacts(request: ApiRequest) -> Reply:
    """The list's contacts, those of a topic status with ``Filter``, paged with PageSize."""
    contact_list = _list(request)
    p = request.params
    wanted = (p.get("Filter") or {}).get("FilteredStatus")
    topic_filter = (p.get("Filter") or {}).get("TopicFilter") or {}
    topic = topic_filter.get("TopicName")
    use_default = bool(topic_filter.get("UseDefaultIfPreferenceUnavailable"))
    found = []
    for contact in contact_list.contacts.values():
        if wanted and topic:
            own = {
                t.get("TopicName"): t.get("SubscriptionStatus") for t in contact.topic_preferences
            }
            status = own.get(topic) or (
                topic_status(contact_list, None, topic) if use_default else None
            )
            if contact.unsubscribe_all:
                status = "OPT_OUT"
            if status != wanted:
                continue
        found.append(contact)
    size = int(p.get("PageSize") or 1000)
    token = p.get("NextToken")
    start = int(token) if token and str(token).isdigit() else 0
    output: dict[str, Any] = {
        "Contacts": [
            {
                "EmailAddress": c.email_address,
                "TopicPreferences": c.topic_preferences,
                "TopicDefaultPreferences": _defaults(contact_list),
                "UnsubscribeAll": c.unsubscribe_all,
                "LastUpdatedTimestamp": c.last_updated_timestamp,
            }
            for c in found[start : start + size]
        ]
    }
    if start + size < len(found):
        output["NextToken"] = str(start + size)
    return success(request.call, output)
