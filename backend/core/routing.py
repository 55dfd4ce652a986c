"""URL rules whose builders are compiled on first use.

Werkzeug compiles two Python functions per rule when the rule is added (what `url_for` runs
to build its URL), parsing and compiling generated code: about 45 ms of every process's
start-up for the app's ~260 rules, most of which nothing ever builds a URL for (the API's
clients are given paths, not links). Here each is compiled the first time it is used, and
kept; matching requests never uses them."""
from __future__ import annotations

from werkzeug.routing import Rule


class LazyBuilderRule(Rule):
    """A Rule whose URL builders are compiled the first time a URL is built with it."""

    def _compile_builder(self, append_unknown: bool = True):
        attribute = "_build_unknown" if append_unknown else "_build"
        compile_builder = super()._compile_builder

        def build_once(rule: Rule, *args, **kwargs):
            # Two threads may both compile it: the same function, either one kept.
            built = compile_builder(append_unknown).__get__(rule, None)
            setattr(rule, attribute, built)
            return built(*args, **kwargs)

        return build_once
