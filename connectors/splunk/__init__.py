"""Splunk: log lines around an alert through the search API (``logs``) and its plugin (``plugin``)."""
