"""The mailbox: every email the backend sends lands here, for the student and the checks to read."""
