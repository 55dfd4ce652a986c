"""URL rules whose builders are compiled on first use (core.routing): the URLs built are
Werkzeug's own, for every kind of rule, and the app's rules are of that kind."""
from __future__ import annotations

import pytest
from flask import url_for
from werkzeug.routing import Map, Rule

from backend.core.routing import LazyBuilderRule

RULES = [
    ("/plain", "plain", {}),
    ("/items/<int:item_id>", "item", {"item_id": 42}),
    ("/files/<path:name>", "file", {"name": "a/b c.txt"}),
    ("/nit/<string:nit>", "nit", {"nit": "900123456-7", "page": "2", "q": "señal"}),
    ("/defaults/", "defaulted", {"page": 1, "other": "x y"}),
    ("/uuid/<uuid:uid>", "uid", {"uid": "12345678-1234-5678-1234-567812345678"}),
]


def _adapter(rule_class):
    url_map = Map([rule_class(path, endpoint=endpoint, **(
        {"defaults": {"page": 1}} if endpoint == "defaulted" else {}))
        for path, endpoint, _ in RULES])
    return url_map.bind("example.com", "/")


@pytest.mark.parametrize(("path", "endpoint", "values"), RULES)
def test_lazy_rules_build_the_urls_werkzeug_builds(path, endpoint, values):
    eager, lazy = _adapter(Rule), _adapter(LazyBuilderRule)
    for external in (False, True):
        for _ in range(2):  # compiled on the first build, kept for the next
            built = lazy.build(endpoint, values, force_external=external)
            assert built == eager.build(endpoint, values, force_external=external)
    assert lazy.build(endpoint, values, append_unknown=False) == eager.build(
        endpoint, values, append_unknown=False)


def test_the_apps_rules_build_lazily_and_still_match(app, client):
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint != "static"]
    assert rules and all(isinstance(rule, LazyBuilderRule) for rule in rules)
    with app.test_request_context():
        assert url_for("panel.index") == "/panel/"
        assert url_for("panel.index", _external=True, next="/x") == "http://localhost/panel/?next=/x"
    assert client.get("/health").status_code == 200
