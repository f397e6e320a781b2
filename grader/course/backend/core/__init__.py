"""The backend's machinery, whatever the service: the server, the extension registry, the wire
protocols, the clock, certificates, the gate and the one accessor to moto's state.
"""
