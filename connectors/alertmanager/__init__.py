"""Prometheus Alertmanager: webhook payloads (``alerts``) and its plugin (``plugin``)."""
