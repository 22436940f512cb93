"""The terminal host: ``yoi chat``, ``yoi sessions``, ``yoi log``."""
