"""SESv2 email templates, which moto lacks (HTTP 404), kept in moto's v1 template store.

One store means a template made with v1 ``CreateTemplate`` is visible to v2 ``GetEmailTemplate``
and the other way round, as on AWS, where both APIs manage the same templates
(https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_CreateEmailTemplate.html).
"""

from __future__ import annotations

from typing import Any

from course.backend.core import clock, moto_state
from course.backend.core.registry import ApiRequest, Reply, before, success
from course.backend.ses.exceptions import (
    AlreadyExistsException,
    BadRequestException,
    NotFoundException,
)
from course.backend.ses.sending import Rejection, compose, render


def _templates(request: ApiRequest) -> dict[str, dict[str, Any]]:
    return moto_state.ses_templates(request.account_id, request.call.region)


def _missing(name: str) -> NotFoundException:
    return NotFoundException(f"Template {name} does not exist.")


def _stored(name: str, content: dict[str, str]) -> dict[str, Any]:
    return {
        "template_name": name,
        "subject_part": content.get("Subject", ""),
        "text_part": content.get("Text", ""),
        "html_part": content.get("Html", ""),
        "Timestamp": clock.now(),
    }


def _content(template: dict[str, Any]) -> dict[str, str]:
    content = {"Subject": template.get("subject_part", "")}
    if template.get("text_part"):
        content["Text"] = template["text_part"]
    if template.get("html_part"):
        content["Html"] = template["html_part"]
    return content


@before("sesv2", "CreateEmailTemplate")
def create_email_template(request: ApiRequest) -> Reply:
    """Store a new template (in moto's v1 store); one of that name exists already: refused."""
    name = request.params.get("TemplateName", "")
    templates = _templates(request)
    if name in templates:
        raise AlreadyExistsException(f"Template {name} already exists.")
    templates[name] = _stored(name, request.params.get("TemplateContent") or {})
    return success(request.call, {})


@before("sesv2", "UpdateEmailTemplate")
def update_email_template(request: ApiRequest) -> Reply:
    """Replace a template's content."""
    name = request.params.get("TemplateName", "")
    templates = _templates(request)
    if name not in templates:
        raise _missing(name)
    templates[name] = _stored(name, request.params.get("TemplateContent") or {})
    return success(request.call, {})


@before("sesv2", "GetEmailTemplate")
def get_email_template(request: ApiRequest) -> Reply:
    """A template's subject, text and HTML parts."""
    name = request.params.get("TemplateName", "")
    template = _templates(request).get(name)
    if template is None:
        raise _missing(name)
    return success(request.call, {"TemplateName": name, "TemplateContent": _content(template)})


@before("sesv2", "DeleteEmailTemplate")
def delete_email_template(request: ApiRequest) -> Reply:
    """Delete a template."""
    name = request.params.get("TemplateName", "")
    if _templates(request).pop(name, None) is None:
        raise _missing(name)
    return success(request.call, {})


@before("sesv2", "ListEmailTemplates")
def list_email_templates(request: ApiRequest) -> Reply:
    """Template names and creation times, by name, paged with PageSize and NextToken."""
    size = int(request.params.get("PageSize") or 10)
    templates = _templates(request)
    names = sorted(templates)
    token = request.params.get("NextToken")
    start = int(token) if token and str(token).isdigit() else 0
    page = names[start : start + size]
    output: dict[str, Any] = {
        "TemplatesMetadata": [
            {"TemplateName": n, "CreatedTimestamp": _created(templates[n])} for n in page
        ]
    }
    if start + size < len(names):
        output["NextToken"] = str(start + size)
    return success(request.call, output)


def _created(template: dict[str, Any]) -> float:
    stamp = template.get("Timestamp")
    if hasattr(stamp, "timestamp"):
        return stamp.timestamp()
    return float(stamp) if isinstance(stamp, (int, float)) else clock.now()


@before("sesv2", "TestRenderEmailTemplate")
def test_render_email_template(request: ApiRequest) -> Reply:
    """The MIME message a template filled with TemplateData makes."""
    name = request.params.get("TemplateName", "")
    template = _templates(request).get(name)
    if template is None:
        raise _missing(name)
    try:
        subject, text, html = render(template, request.params.get("TemplateData", "{}"))
    except Rejection as exc:
        raise BadRequestException(exc.message) from None
    rendered = compose(
        source="", to=[], cc=[], reply_to=[], subject=subject, text=text, html=html
    ).decode("utf-8", "replace")
    return success(request.call, {"RenderedTemplate": rendered})
