"""The pipeline service and its stages (intake, bundle loading, events, analysis)."""

from bot.pipeline.bundle import BundleReport, load_bundle
from bot.pipeline.events import EventBus
from bot.pipeline.intake import IntakeResult, IntakeService
from bot.pipeline.service import Pipeline

__all__ = ["BundleReport", "EventBus", "IntakeResult", "IntakeService", "Pipeline", "load_bundle"]
