"""WSGI entry point: `gunicorn wsgi:app`.

Building the app leaves ~200,000 long-lived objects (modules, classes, routes, the OpenAPI
document), and Python's cyclic garbage collector would walk all of them several times while
they are made, to free almost nothing: ~0.2 s of a worker's start-up. So it is paused while
the app is imported and built, and what was built is then frozen before it runs again
(`gc.freeze`): never walked again, which also spares the first requests a full collection
(~0.15 s), and a worker forked from it (`--preload`, see README) does not write to (and so
copy) those pages when it collects.
The price: the few thousand cyclic leftovers of the start-up (~1 MB) are never freed.
"""
import gc

gc.disable()
from backend import create_app  # noqa: E402  (imported with the collector paused, see above)

app = create_app()
gc.freeze()
gc.enable()
