"""Datadog: monitor webhook payloads (``alerts``) and its plugin (``plugin``)."""
