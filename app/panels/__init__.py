"""Control panels: parameters, transport, status, welcome page."""
