"""Kubernetes: pod logs and events as a log source (``logs``), live evidence around an alert (``evidence``),
read-only reads for the LLM's tools (``reader``), the ``kubernetes`` settings section (``settings``) and its
plugin (``plugin``). Every read is namespaced get/list; nothing here can change a cluster."""
