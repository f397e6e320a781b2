"""Amazon CloudWatch in the backend: the metrics SQS and SES publish, and alarms that change state.

moto stores metric data and alarms but publishes no SQS or SES metric and never evaluates an
alarm. ``sqs_metrics`` and ``ses_metrics`` derive AWS's per-minute datapoints from what every
call did (``@observe``) and from moto's queues; ``store`` reads moto's metric store the way
CloudWatch aggregates it; ``alarms`` moves each metric alarm between INSUFFICIENT_DATA, OK and
ALARM; ``actions`` holds the hooks.
"""
