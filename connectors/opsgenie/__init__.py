"""Opsgenie: webhook payloads (``alerts``), the Alert API client for history and write-back (``client``), the
incident tool (``writeback``), the ``opsgenie`` settings section (``settings``) and its plugin (``plugin``)."""
