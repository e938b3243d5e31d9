"""The caregivers' live dashboard: a FastAPI app over the monitor's store (see docs/dashboard.md)."""

from speech_emotion.web.app import create_app

__all__ = ["create_app"]
