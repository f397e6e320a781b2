"""SES v1 and v2 identity calls, answered from the identity store so both APIs agree with AWS.

moto creates and stores identities (so its tags and policies keep working); every call that
reads or changes verification, DKIM or MAIL FROM state is answered here instead of by moto,
which reports every identity verified and hard-codes its DKIM tokens; the state is
``course.backend.ses.identities``. References:
https://docs.aws.amazon.com/ses/latest/APIReference/ (v1) and
https://docs.aws.amazon.com/ses/latest/APIReference-V2/ (v2).
"""

from __future__ import annotations

from typing import Any

from course.backend.core import clock, moto_state
from course.backend.core.registry import ApiRequest, Reply, after, base_url, before, success
from course.backend.ses.exceptions import (
    AlreadyExistsException,
    BadRequestException,
    InvalidParameterValue,
    NotFoundException,
)
from course.backend.ses.identities import (
    STORE,
    V1_STATUS,
    Identity,
    normalize,
    notification_topics,
)

V1_BEHAVIOR = {"USE_DEFAULT_VALUE": "UseDefaultValue", "REJECT_MESSAGE": "RejectMessage"}
V2_BEHAVIOR = {v: k for k, v in V1_BEHAVIOR.items()}


def _where(request: ApiRequest) -> tuple[str, str]:
    return request.account_id, request.call.region


def _domain_of(identity: Identity, request: ApiRequest) -> Identity | None:
    """The domain identity whose DKIM settings an address identity shows."""
    if identity.is_domain:
        return identity
    return STORE.get(*_where(request), identity.domain)


def _forwarding(request: ApiRequest, name: str) -> bool:
    topics = notification_topics(*_where(request), name)
    return bool(topics.get("feedback_forwarding_enabled", True))


def _drop_from_moto(request: ApiRequest, name: str) -> None:
    backend = moto_state.ses(*_where(request))
    for key in list(backend.email_identities):
        if normalize(key) == name:
            del backend.email_identities[key]
    backend.dkim_tokens.pop(name, None)
    backend.identity_mail_from_domains.pop(name, None)


def _exists(request: ApiRequest, name: str) -> Identity | None:
    return STORE.get(*_where(request), name)


def _no_identity(name: str) -> NotFoundException:
    """SESv2's answer about an identity that does not exist."""
    return NotFoundException(f"Email identity {name} does not exist.")


# ------------------------------------------------------------------ creating identities


@after("ses", "VerifyEmailIdentity")
@after("ses", "VerifyEmailAddress")
def verify_email_identity(request: ApiRequest, reply: Reply, parsed: dict[str, Any]) -> None:
    """SES mails the address a verification link (again, if it is not verified yet)."""
    if reply.status >= 400:
        return None
    address = request.params.get("EmailAddress", "")
    identity, _ = STORE.create(*_where(request), address)
    if not identity.verified:
        STORE.send_verification_email(*_where(request), identity, base_url(request.environ))
    return None


@after("ses", "VerifyDomainIdentity")
def verify_domain_identity(request: ApiRequest, reply: Reply, parsed: dict[str, Any]) -> Reply:
    """The token to publish as the ``_amazonses.<domain>`` TXT record."""
    if reply.status >= 400:
        return reply
    identity, _ = STORE.create(*_where(request), request.params.get("Domain", ""))
    return success(request.call, {"VerificationToken": identity.verification_token})


@after("ses", "VerifyDomainDkim")
def verify_domain_dkim(request: ApiRequest, reply: Reply, parsed: dict[str, Any]) -> Reply:
    """Three random Easy DKIM tokens for the domain (moto returns the same three to everyone)."""
    if reply.status >= 400:
        return reply
    identity, _ = STORE.create(*_where(request), request.params.get("Domain", ""))
    return success(request.call, {"DkimTokens": STORE.start_dkim(identity)})


@before("sesv2", "CreateEmailIdentity")
def create_email_identity_checks(request: ApiRequest) -> Reply | None:
    """Refuse an identity that exists already, and Bring Your Own DKIM (Easy DKIM only)."""
    name = normalize(request.params.get("EmailIdentity", ""))
    if _exists(request, name) is not None:
        raise AlreadyExistsException(f"Email identity {name} already exist.")
    signing = request.params.get("DkimSigningAttributes") or {}
    if signing.get("DomainSigningPrivateKey") or signing.get("DomainSigningSelector"):
        raise BadRequestException(
            "The course's local backend supports Easy DKIM only, not Bring Your Own DKIM."
        )
    return None


@after("sesv2", "CreateEmailIdentity")
def create_email_identity(request: ApiRequest, reply: Reply, parsed: dict[str, Any]) -> Reply:
    """A domain gets Easy DKIM tokens; an address gets a verification email."""
    if reply.status >= 400:
        return reply
    identity, _ = STORE.create(*_where(request), request.params.get("EmailIdentity", ""))
    identity.configuration_set = request.params.get("ConfigurationSetName")
    if identity.is_domain:
        length = (request.params.get("DkimSigningAttributes") or {}).get("NextSigningKeyLength")
        STORE.start_dkim(identity, length)
    else:
        STORE.send_verification_email(*_where(request), identity, base_url(request.environ))
    identity.refresh(*_where(request))
    return success(
        request.call,
        {
            "IdentityType": identity.kind,
            "VerifiedForSendingStatus": identity.verified,
            "DkimAttributes": _dkim_v2(identity, request),
        },
    )


# ------------------------------------------------------------------ reading identities (v1)


@before("ses", "GetIdentityVerificationAttributes")
def get_identity_verification_attributes(request: ApiRequest) -> Reply:
    """Each identity's verification status (and a domain's token), as SES has found it."""
    found = {}
    for name in request.params.get("Identities", []):
        identity = _exists(request, name)
        if identity is None:
            continue
        entry = {"VerificationStatus": V1_STATUS[identity.verification_status]}
        if identity.is_domain:
            entry["VerificationToken"] = identity.verification_token
        found[name] = entry
    return success(request.call, {"VerificationAttributes": found})


@before("ses", "GetIdentityDkimAttributes")
def get_identity_dkim_attributes(request: ApiRequest) -> Reply:
    """Each identity's Easy DKIM state (an address shows its domain's)."""
    found = {}
    for name in request.params.get("Identities", []):
        identity = _exists(request, name)
        domain = _domain_of(identity, request) if identity is not None else None
        if domain is None or not domain.dkim_tokens:
            found[name] = {"DkimEnabled": False, "DkimVerificationStatus": "NotStarted"}
            continue
        entry: dict[str, Any] = {
            "DkimEnabled": domain.dkim_signing_enabled,
            "DkimVerificationStatus": V1_STATUS[domain.dkim_status],
        }
        if identity is not None and identity.is_domain:
            entry["DkimTokens"] = list(domain.dkim_tokens)
        found[name] = entry
    return success(request.call, {"DkimAttributes": found})


@before("ses", "GetIdentityMailFromDomainAttributes")
def get_identity_mail_from_domain_attributes(request: ApiRequest) -> Reply:
    """Each identity's custom MAIL FROM domain, its status and behaviour on MX failure."""
    found = {}
    for name in request.params.get("Identities", []):
        identity = _exists(request, name)
        if identity is None:
            continue
        entry = {"BehaviorOnMXFailure": V1_BEHAVIOR[identity.mail_from_behavior]}
        if identity.mail_from_domain:
            entry["MailFromDomain"] = identity.mail_from_domain
            entry["MailFromDomainStatus"] = V1_STATUS[identity.mail_from_status]
        found[name] = entry
    return success(request.call, {"MailFromDomainAttributes": found})


@before("ses", "ListVerifiedEmailAddresses")
def list_verified_email_addresses(request: ApiRequest) -> Reply:
    """The addresses verified by their link (not those covered by a domain)."""
    addresses = [i.name for i in STORE.all(*_where(request)) if not i.is_domain and i.verified]
    return success(request.call, {"VerifiedEmailAddresses": addresses})


# ------------------------------------------------------------------ reading identities (v2)


def _dkim_v2(identity: Identity, request: ApiRequest) -> dict[str, Any]:
    domain = _domain_of(identity, request)
    if domain is None or not domain.dkim_tokens:
        return {
            "SigningEnabled": False,
            "Status": "NOT_STARTED",
            "SigningAttributesOrigin": "AWS_SES",
        }
    attributes: dict[str, Any] = {
        "SigningEnabled": domain.dkim_signing_enabled,
        "Status": domain.dkim_status,
        "SigningAttributesOrigin": "AWS_SES",
        "NextSigningKeyLength": domain.dkim_key_length,
        "CurrentSigningKeyLength": domain.dkim_key_length,
        "LastKeyGenerationTimestamp": domain.dkim_started,
    }
    if identity.is_domain:
        attributes["Tokens"] = list(domain.dkim_tokens)
    return attributes


@before("sesv2", "GetEmailIdentity")
def get_email_identity(request: ApiRequest) -> Reply:
    """One identity: verification, DKIM, MAIL FROM, feedback forwarding, policies and tags."""
    name = normalize(request.params.get("EmailIdentity", ""))
    identity = _exists(request, name)
    if identity is None:
        raise _no_identity(name)
    output: dict[str, Any] = {
        "IdentityType": identity.kind,
        "FeedbackForwardingStatus": _forwarding(request, name),
        "VerifiedForSendingStatus": identity.verified,
        "DkimAttributes": _dkim_v2(identity, request),
        "MailFromAttributes": {"BehaviorOnMxFailure": identity.mail_from_behavior},
        "Policies": {},
        "Tags": [],
        "VerificationStatus": identity.verification_status,
        "VerificationInfo": {"LastCheckedTimestamp": identity.last_checked},
    }
    if identity.mail_from_domain:
        output["MailFromAttributes"].update(
            MailFromDomain=identity.mail_from_domain,
            MailFromDomainStatus=identity.mail_from_status,
        )
    if identity.configuration_set:
        output["ConfigurationSetName"] = identity.configuration_set
    backend = moto_state.ses(*_where(request))
    moto_identity = backend.email_identities.get(name)
    if moto_identity is not None:
        output["Policies"] = dict(moto_identity.policies)
        from moto.ses.utils import get_arn

        arn = get_arn(backend, "ses", f"email-identity/{name}")
        output["Tags"] = backend.tagger.list_tags_for_resource(arn).get("Tags", [])
    return success(request.call, output)


@before("sesv2", "ListEmailIdentities")
def list_email_identities(request: ApiRequest) -> Reply:
    """Paged with PageSize (at most 1000) and NextToken, as AWS does."""
    size = int(request.params.get("PageSize") or 1000)
    if not 0 <= size <= 1000:
        raise BadRequestException("PageSize must be between 0 and 1000.")
    identities = STORE.all(*_where(request))
    token = request.params.get("NextToken")
    start = int(token) if token and str(token).isdigit() else 0
    page = identities[start : start + size] if size else []
    output: dict[str, Any] = {
        "EmailIdentities": [
            {
                "IdentityType": i.kind,
                "IdentityName": i.name,
                "SendingEnabled": True,
                "VerificationStatus": i.verification_status,
            }
            for i in page
        ]
    }
    if size and start + size < len(identities):
        output["NextToken"] = str(start + size)
    return success(request.call, output)


# ------------------------------------------------------------------ changing identities


def _set_mail_from(
    request: ApiRequest, name: str, domain: str | None, behavior: str
) -> tuple[str, str] | None:
    """Set (or with no domain, remove) a custom MAIL FROM domain; an (error code, text) if not."""
    identity = _exists(request, name)
    if identity is None:
        return ("NotFound", f"Identity {name} does not exist.")
    if not domain:
        identity.mail_from_domain = ""
        return None
    domain = normalize(domain)
    if not domain.endswith("." + identity.domain):
        return (
            "InvalidParameterValue",
            f"Provided MAIL-FROM domain '{domain}' is not subdomain of the domain of the "
            f"identity '{identity.domain}'.",
        )
    if domain != identity.mail_from_domain:
        identity.mail_from_domain = domain
        identity.mail_from_set_at = clock.now()
        identity.mail_from_ever_found = False
    identity.mail_from_behavior = behavior
    return None


@before("ses", "SetIdentityMailFromDomain")
def set_identity_mail_from_domain(request: ApiRequest) -> Reply:
    """Set or remove an identity's custom MAIL FROM domain (a subdomain of its domain)."""
    behavior = request.params.get("BehaviorOnMXFailure", "UseDefaultValue")
    if behavior not in V2_BEHAVIOR:
        raise InvalidParameterValue(f"Invalid BehaviorOnMXFailure {behavior}.")
    problem = _set_mail_from(
        request,
        normalize(request.params.get("Identity", "")),
        request.params.get("MailFromDomain"),
        V2_BEHAVIOR[behavior],
    )
    if problem:
        raise InvalidParameterValue(problem[1])
    return success(request.call, {})


@before("sesv2", "PutEmailIdentityMailFromAttributes")
def put_email_identity_mail_from_attributes(request: ApiRequest) -> Reply:
    """Set or remove an identity's custom MAIL FROM domain (v2)."""
    behavior = request.params.get("BehaviorOnMxFailure", "USE_DEFAULT_VALUE")
    if behavior not in V1_BEHAVIOR:
        raise BadRequestException(f"Invalid BehaviorOnMxFailure {behavior}.")
    problem = _set_mail_from(
        request,
        normalize(request.params.get("EmailIdentity", "")),
        request.params.get("MailFromDomain"),
        behavior,
    )
    if problem and problem[0] == "NotFound":
        raise NotFoundException(problem[1])
    if problem:
        raise BadRequestException(problem[1])
    return success(request.call, {})


@before("ses", "SetIdentityDkimEnabled")
def set_identity_dkim_enabled(request: ApiRequest) -> Reply:
    """Turn DKIM signing on or off for an identity's domain (Easy DKIM must be set up)."""
    identity = _exists(request, request.params.get("Identity", ""))
    domain = _domain_of(identity, request) if identity is not None else None
    if domain is None or not domain.dkim_tokens:
        raise InvalidParameterValue(
            "Easy DKIM is not set up for this identity: call VerifyDomainDkim first."
        )
    domain.dkim_signing_enabled = bool(request.params.get("DkimEnabled"))
    return success(request.call, {})


@before("sesv2", "PutEmailIdentityDkimAttributes")
def put_email_identity_dkim_attributes(request: ApiRequest) -> Reply:
    """Turn DKIM signing on or off for an identity's domain (v2)."""
    name = normalize(request.params.get("EmailIdentity", ""))
    identity = _exists(request, name)
    if identity is None:
        raise _no_identity(name)
    domain = _domain_of(identity, request)
    if domain is None or not domain.dkim_tokens:
        raise BadRequestException("Easy DKIM is not set up for this identity.")
    domain.dkim_signing_enabled = bool(request.params.get("SigningEnabled"))
    return success(request.call, {})


@before("sesv2", "PutEmailIdentityConfigurationSetAttributes")
def put_email_identity_configuration_set_attributes(request: ApiRequest) -> Reply:
    """Set (or clear) the configuration set the identity's mail uses by default."""
    name = normalize(request.params.get("EmailIdentity", ""))
    identity = _exists(request, name)
    if identity is None:
        raise _no_identity(name)
    identity.configuration_set = request.params.get("ConfigurationSetName") or None
    return success(request.call, {})


@before("sesv2", "PutEmailIdentityFeedbackAttributes")
def put_email_identity_feedback_attributes(request: ApiRequest) -> Reply:
    """Turn bounce and complaint forwarding by email on or off (kept in moto)."""
    name = normalize(request.params.get("EmailIdentity", ""))
    if _exists(request, name) is None:
        raise _no_identity(name)
    backend = moto_state.ses(*_where(request))
    enabled = bool(request.params.get("EmailForwardingEnabled"))
    backend.set_identity_feedback_forwarding_enabled(name, enabled)
    return success(request.call, {})


# ------------------------------------------------------------------ deleting identities


@before("ses", "DeleteIdentity")
@before("ses", "DeleteVerifiedEmailAddress")
def delete_identity(request: ApiRequest) -> Reply:
    """Deleting an unknown identity succeeds on AWS; moto fails on some (HTTP 500)."""
    name = normalize(request.params.get("Identity") or request.params.get("EmailAddress", ""))
    _drop_from_moto(request, name)
    STORE.delete(*_where(request), name)
    return success(request.call, {})


@before("sesv2", "DeleteEmailIdentity")
def delete_email_identity(request: ApiRequest) -> Reply:
    """Delete an identity from moto and from the store; an unknown one is NotFoundException."""
    name = normalize(request.params.get("EmailIdentity", ""))
    if _exists(request, name) is None:
        raise _no_identity(name)
    _drop_from_moto(request, name)
    STORE.delete(*_where(request), name)
    return success(request.call, {})
