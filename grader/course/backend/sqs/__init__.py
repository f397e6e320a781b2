"""Amazon SQS in the backend: AWS's limits, FIFO rules, redrive, retention and the receive
record.
"""
