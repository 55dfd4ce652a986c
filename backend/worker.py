"""Entry point for Celery workers: `celery -A backend.worker worker --loglevel=info`."""
from . import create_app

flask_app = create_app()
celery = flask_app.extensions["celery"]
