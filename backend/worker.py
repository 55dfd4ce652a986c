"""Entry point for Celery workers: `celery -A backend.worker worker --loglevel=info`.

The whole app is built (every domain's models and hooks: a task may touch any of them), then
frozen for the cyclic garbage collector (`gc.freeze`, as wsgi.py does): what was built lives as
long as the worker, so no collection walks it again, and the prefork pool's children, forked
after this, do not write to (and so copy) its pages when they collect."""
import gc

from . import create_app

flask_app = create_app()
celery = flask_app.extensions["celery"]
gc.freeze()
