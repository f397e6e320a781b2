"""The backend's extensions: every module that adds to or corrects moto, in the order they load.

Only these modules register ``@before`` and ``@after`` hooks, and no module imports one that
does (``identities`` and ``mailbox``, listed for their pages, are imported as state), so hooks
on the same call run in this order; ``tests/backend/test_backend.py`` checks both. Where two modules
hook the same call, the order below is the one the kit's behaviour depends on:

- SQS ``CreateQueue``: ``fifo`` (a ``.fifo`` name goes with ``FifoQueue``) before ``limits``
  (attribute ranges); ``ReceiveMessage``: ``fifo``, ``limits``, then ``retention``;
  ``SendMessage``, ``SendMessageBatch``, ``SetQueueAttributes``: ``limits`` before ``retention``;
- SNS ``Publish``: ``topics`` (the Subject) before ``email`` (expiring unconfirmed
  subscriptions) before ``fifo_topics`` (group and deduplication ids) before
  ``large_messages`` (the topic's size limit); ``Subscribe``: ``email`` (the endpoint) before
  ``fifo_topics`` (a FIFO topic takes SQS only) before ``http_subscriptions`` (local http/https
  endpoints) before ``large_messages`` (the protocols and the count a large-message topic
  allows) before ``filter_policies``; ``GetTopicAttributes``: ``topics``
  (the counts) before ``large_messages`` (``MaximumMessageSize``).

CloudWatch's ``actions`` watches SQS, SNS and SES calls through ``@observe``, which runs once a
call is answered, after every ``@before`` and ``@after`` hook, so its place in the list does not
change what those hooks do; it is the only module hooking CloudWatch's reads.

The server reports the list at ``/_course/health``.
"""

from __future__ import annotations

EXTENSIONS: tuple[str, ...] = (
    # Amazon SQS
    "course.backend.sqs.attributes",  # SetQueueAttributes keeps the attributes it does not name
    "course.backend.sqs.fifo",  # FIFO: 5-minute deduplication, sequence numbers, .fifo names, order
    "course.backend.sqs.limits",  # AWS's limits on queue attributes, receives, sends and batches
    "course.backend.sqs.receivers",  # which named client received each message (/_course/sqs/...)
    "course.backend.sqs.redrive",  # StartMessageMoveTask & co; the queue's messages page
    "course.backend.sqs.retention",  # expired messages deleted before every call on a queue
    # Amazon SNS
    "course.backend.sns.topics",  # the kit's fan-out in Topic.publish; Subject; topic counts
    "course.backend.sns.email",  # email subscriptions pending until confirmed; confirm links
    "course.backend.sns.fifo_topics",  # FIFO topics: group and dedup ids required, SQS only
    "course.backend.sns.http_subscriptions",  # http/https endpoints: local URLs only
    "course.backend.sns.large_messages",  # MaximumMessageSize: up to 1 MiB, its subscriptions
    "course.backend.sns.filter_policies",  # FilterPolicy validated when it is set
    # Amazon SES
    "course.backend.ses.routes",  # every botocore release's v2 bindings; unknown operations
    "course.backend.ses.identities",  # the verification link and DKIM key pages
    "course.backend.ses.identity_actions",  # v1/v2 identity calls: verification, DKIM, MAIL FROM
    "course.backend.ses.account_actions",  # sandbox, quotas, statistics, production access
    "course.backend.ses.destination_actions",  # configuration-set event destinations, v1 and v2
    "course.backend.ses.send_actions",  # v1/v2 sends through the one sending path
    "course.backend.ses.bulk_actions",  # v1/v2 bulk sends, one message per destination
    "course.backend.ses.contacts",  # list management: the unsubscribe link's page
    "course.backend.ses.contact_actions",  # contact lists and contacts as AWS keeps them
    "course.backend.ses.templates",  # v2 email templates on moto's v1 template store
    "course.backend.ses.smtp_endpoint",  # the SMTP interface, started on first use; its log
    # Amazon CloudWatch
    "course.backend.cloudwatch.actions",  # SQS and SES metrics; alarms evaluated on the clock
    # AWS Lambda (event sources first: on reset their pollers stop before runs are killed)
    "course.backend.awslambda.event_sources",  # SQS event source mappings poll as Lambda's do
    "course.backend.awslambda.invoke",  # Invoke runs the Python handler without Docker
    # AWS IAM
    "course.backend.iam.managed_policies",  # AWS managed policies examples attach, from the start
    # The mailbox
    "course.backend.mail.mailbox",  # where every email lands: /_course/mailbox
)
