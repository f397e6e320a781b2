"""HTTP/HTTPS subscriptions at Subscribe: local endpoints only, with the right scheme.

moto subscribes any http/https endpoint and confirms it at once. On AWS the endpoint gets a
``SubscriptionConfirmation`` POST and the subscription stays "PendingConfirmation" until
``ConfirmSubscription`` or a visit to the SubscribeURL (``course.backend.sns.email`` handles the
pending state for every protocol that needs confirmation; ``course.backend.sns.http_endpoints``
makes the POSTs). Here an endpoint the backend will not POST to is refused with AWS's error
shape (``InvalidParameter``): one whose scheme is not the protocol's, or whose host is not a
loopback address.

https://docs.aws.amazon.com/sns/latest/dg/sns-http-https-endpoint-as-subscriber.html
https://docs.aws.amazon.com/sns/latest/api/API_Subscribe.html
"""

from __future__ import annotations

from course.backend.core.registry import ApiRequest, Reply, before
from course.backend.sns import http_endpoints
from course.backend.sns.exceptions import InvalidParameter


@before("sns", "Subscribe")
def check_http_endpoint(request: ApiRequest) -> Reply | None:
    """Refuse an http/https endpoint that is not a local URL of the protocol's scheme."""
    protocol = str(request.params.get("Protocol", "")).lower()
    if protocol not in ("http", "https"):
        return None
    if problem := http_endpoints.endpoint_problem(
        protocol, str(request.params.get("Endpoint", ""))
    ):
        raise InvalidParameter(problem)
    return None
