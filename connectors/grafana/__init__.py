"""Grafana: alert webhook payloads (``alerts``), the annotations client and evidence links (``client``), and
its plugin (``plugin``)."""
