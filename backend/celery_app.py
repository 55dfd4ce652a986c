"""Celery wired the Flask way: tasks run inside the app context.

Eager (in-process) when CELERY_BROKER_URL is unset; a worker otherwise:
    celery -A backend.worker worker --loglevel=info
    celery -A backend.worker beat --loglevel=info     # one per deployment: periodic tasks
"""
from __future__ import annotations

from celery import Celery, Task
from flask import Flask, has_app_context

MAIL_OUTBOX_FLUSH_SECONDS = 60.0


def celery_init_app(app: Flask) -> Celery:
    """Create the Celery app for `app`, configured from `app.config["CELERY"]`."""

    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            # Eager calls run inside the caller's app context (its config); workers push ours.
            if has_app_context():
                return self.run(*args, **kwargs)
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(app.config["CELERY"])
    celery_app.conf.update(
        task_default_queue="backend",
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        imports=("backend.core.tasks",),
        # `celery -A backend.worker beat` (or a worker started with -B): pending mail
        # (core.mail_outbox) is sent again every minute.
        beat_schedule={"flush-mail-outbox": {"task": "backend.flush_mail_outbox",
                                             "schedule": MAIL_OUTBOX_FLUSH_SECONDS}},
    )
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app
