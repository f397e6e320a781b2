"""Readers of the flow record and the backend's state, per service, that the lab checks share."""
