"""Configuration: the settings schema, the default ``sherlog.yaml`` and example configs."""

from config.settings import Settings, get_settings, load_settings

__all__ = ["Settings", "get_settings", "load_settings"]
