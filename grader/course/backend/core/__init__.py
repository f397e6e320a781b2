"""The backend's machinery, whatever the service, importing none of them.

The server (``server``), the extension registry (``registry``), the AWS errors hooks raise
(``errors``), the wire protocols (``protocol``), the clock, certificates, the gate, what the
server fixes at start (``settings``) and the one accessor to moto's state (``moto_state``).
"""
