"""Amazon SES in the backend: identities, the sandbox and production access, sending, SMTP, events
and templates.
"""
