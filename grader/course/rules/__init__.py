"""AWS's rules as pure functions, shared by the backend and the checks: SNS filter policies,
resource policies, the SES production-access review.
"""
