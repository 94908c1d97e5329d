"""Generic JSON alerts: the default parser and the YAML-configured mappings (``alerts``), and its plugin."""
