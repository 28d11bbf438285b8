"""Each test's settings get their own Jinja environment (app.templating.environment_for), which compiled every
template a test rendered from its source again: a server compiles each once. `share_compiled_templates()` gives
every environment built from then on one in-memory bytecode cache, so a template is parsed and compiled once per
process and loaded from its code after that. Jinja keys the cache by the template's name and a checksum of its
source, so a changed template is compiled afresh; every environment is built by the same build_environment, with
the same options and extensions, so the code one compiles is the code another would."""

from __future__ import annotations

from jinja2 import BytecodeCache

import app.templating


class MemoryBytecodeCache(BytecodeCache):
    def __init__(self) -> None:
        self.code: dict[str, bytes] = {}
        self.loaded = 0

    def load_bytecode(self, bucket) -> None:
        if (code := self.code.get(bucket.key)) is not None:
            bucket.bytecode_from_string(code)
            self.loaded += 1

    def dump_bytecode(self, bucket) -> None:
        self.code[bucket.key] = bucket.bytecode_to_string()


SHARED = MemoryBytecodeCache()
_original_build = app.templating.build_environment


def _build_with_shared_cache(*args, **kwargs):
    env = _original_build(*args, **kwargs)
    env.bytecode_cache = SHARED
    return env


def share_compiled_templates() -> None:
    app.templating.build_environment = _build_with_shared_cache


def compile_afresh() -> None:
    """Each environment compiles for itself again (for the test that compares the two)."""
    app.templating.build_environment = _original_build
