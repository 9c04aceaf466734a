"""The bundled target services (``apps``) and how they run (``backends``)."""
