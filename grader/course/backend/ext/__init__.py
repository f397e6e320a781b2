"""The kit's additions to moto, one module per concern; each is imported when the backend starts."""
