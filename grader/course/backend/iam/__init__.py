"""AWS IAM in the backend: the AWS managed policies the course's and AWS's examples attach."""
