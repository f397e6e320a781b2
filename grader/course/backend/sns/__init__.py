"""Amazon SNS in the backend: subscriptions, confirmation email, delivery to every protocol, filter
policies.
"""
