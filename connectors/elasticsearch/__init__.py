"""Elasticsearch / OpenSearch: log lines around an alert (``logs``) and its plugin (``plugin``)."""
