"""PagerDuty: V3 webhook payloads (``alerts``), the REST client for history and write-back (``client``), the
incident tool (``writeback``), the webhook signature check (``verifier``), the ``pagerduty`` settings section
(``settings``) and its plugin (``plugin``)."""
