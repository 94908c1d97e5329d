"""Prometheus: the HTTP API client (``client``), the shipped exporter queries (``defaults``), the settings
section (``settings``) and its plugin (``plugin``)."""
