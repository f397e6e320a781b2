"""Record how two botocore releases send SES v2 requests: ``sesv2_shapes.json`` beside this file.

    pip download --no-deps botocore==1.35.0 -d /tmp/old && unzip -q /tmp/old/*.whl -d /tmp/old
    python tests/backend/ses/record_sesv2_shapes.py \\
        /tmp/old/botocore/data/sesv2/2019-09-27/service-2.json.gz 1.35.0

The older release's ``sesv2`` model is read from the file given; the newer is the installed
botocore's. For each release the fixture keeps every operation's HTTP binding (method, URI
template, the input members it sends in the query string) and, for the operations the labs
use, the request botocore serializes from ``LAB_CALLS`` (method, path, query string, JSON body):
``test_routes.py`` replays both against a real backend. Not a test; run it again when a
release worth pinning moves a binding.
"""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import botocore
import botocore.session
from botocore.model import ServiceModel
from botocore.serialize import create_serializer

FIXTURE = Path(__file__).with_name("sesv2_shapes.json")

#: The lab operations' parameters, in the order test_routes.py may set them up.
LAB_CALLS: dict[str, dict[str, Any]] = {
    "CreateEmailIdentity": {"EmailIdentity": "sender@example.net"},
    "GetEmailIdentity": {"EmailIdentity": "example.com"},
    "ListEmailIdentities": {"PageSize": 10},
    "PutEmailIdentityMailFromAttributes": {
        "EmailIdentity": "example.com",
        "MailFromDomain": "mail.example.com",
        "BehaviorOnMxFailure": "USE_DEFAULT_VALUE",
    },
    "PutEmailIdentityDkimSigningAttributes": {
        "EmailIdentity": "example.com",
        "SigningAttributesOrigin": "AWS_SES",
    },
    "DeleteEmailIdentity": {"EmailIdentity": "example.com"},
    "CreateConfigurationSet": {"ConfigurationSetName": "course-events"},
    "ListConfigurationSets": {"PageSize": 10},
    "CreateConfigurationSetEventDestination": {
        "ConfigurationSetName": "course-events",
        "EventDestinationName": "to-sns",
        "EventDestination": {
            "Enabled": True,
            "MatchingEventTypes": ["SEND", "DELIVERY", "BOUNCE", "COMPLAINT"],
            "SnsDestination": {"TopicArn": "arn:aws:sns:us-east-1:123456789012:ses-events"},
        },
    },
    "GetConfigurationSetEventDestinations": {"ConfigurationSetName": "course-events"},
    "DeleteConfigurationSet": {"ConfigurationSetName": "course-events"},
    "CreateEmailTemplate": {
        "TemplateName": "welcome",
        "TemplateContent": {"Subject": "Hi {{name}}", "Text": "Welcome, {{name}}."},
    },
    "GetEmailTemplate": {"TemplateName": "welcome"},
    "ListEmailTemplates": {"PageSize": 10},
    "SendEmail": {
        "FromEmailAddress": "sender@example.net",
        "Destination": {"ToAddresses": ["learner@example.net"]},
        "Content": {"Simple": {"Subject": {"Data": "Hello"}, "Body": {"Text": {"Data": "Hi"}}}},
    },
    "GetAccount": {},
    "PutAccountDetails": {
        "MailType": "TRANSACTIONAL",
        "WebsiteURL": "https://www.example.com",
        "UseCaseDescription": "Order receipts to customers who signed up; bounces and "
        "complaints arrive through SNS and remove the address.",
        "ProductionAccessEnabled": True,
    },
}


def bindings(model: dict[str, Any]) -> dict[str, list[Any]]:
    """Each operation's [method, requestUri, members sent in the query string]."""
    found = {}
    for name, operation in sorted(model["operations"].items()):
        shape = model["shapes"].get(operation.get("input", {}).get("shape", ""), {})
        query = sorted(
            n for n, m in shape.get("members", {}).items() if m.get("location") == "querystring"
        )
        found[name] = [operation["http"]["method"], operation["http"]["requestUri"], query]
    return found


def requests(model: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The request botocore serializes for each of ``LAB_CALLS`` under ``model``."""
    service = ServiceModel(model, service_name="sesv2")
    serializer = create_serializer("rest-json", include_validation=False)
    shapes = {}
    for name, params in LAB_CALLS.items():
        request = serializer.serialize_to_request(params, service.operation_model(name))
        body = request["body"]
        body = body.decode() if isinstance(body, bytes) else body
        query = urlencode(sorted(request["query_string"].items()))
        shapes[name] = {
            "method": request["method"],
            "path": request["url_path"],
            "query": query,
            "body": json.loads(body) if body else None,
        }
    return shapes


def main(old_model_path: str, old_release: str) -> None:
    raw = Path(old_model_path).read_bytes()
    old = json.loads(gzip.decompress(raw) if old_model_path.endswith(".gz") else raw)
    loader = botocore.session.get_session().get_component("data_loader")
    new = loader.load_service_model("sesv2", "service-2")
    releases = {old_release: old, botocore.__version__: new}
    document = {
        "releases": list(releases),
        "calls": LAB_CALLS,
        "bindings": {r: bindings(m) for r, m in releases.items()},
        "requests": {r: requests(m) for r, m in releases.items()},
    }
    FIXTURE.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
    print(f"wrote {FIXTURE}: releases {', '.join(releases)}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
