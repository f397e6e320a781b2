"""AWS Lambda in the backend: running Python handlers without Docker, and Invoke."""
