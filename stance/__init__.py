"""stance: label news paragraphs for stance, framing and sentiment toward great powers.

The Python API (stance.api), loaded on first use so that `import stance` and `stance --help`
stay light (no torch, pandas or scikit-learn until a run is trained or loaded):

    stance.load_run(path_or_config) -> Run     run.predict(texts) / run.predict_proba(texts)
    stance.train(config_dict_or_path) -> Run   trains and tests one run, as `stance train` does
    stance.ingest(data) -> DataFrame           the paragraph table, as `stance corpus` makes it
"""

import sys
import types

__version__ = "0.1.0"

_API = ("load_run", "train", "ingest", "Run")


def __getattr__(name: str):
    if name in _API:
        import importlib

        if name == "train":
            # The submodule stance.train: importing it makes it callable (below), so
            # `stance.train(config)` and `stance.train.main(...)` both work.
            return importlib.import_module("stance.train")
        return getattr(importlib.import_module("stance.api"), name)
    raise AttributeError(f"module 'stance' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + list(_API))


class _TrainModule(types.ModuleType):
    """The module stance.train, callable as the API's `stance.train(config, ...)`.

    A submodule import sets the package attribute `stance.train` to the module, which would
    hide a function of that name; so the module itself is made callable."""

    def __call__(self, config, **kwargs):
        import importlib

        return importlib.import_module("stance.api").train(config, **kwargs)


class _Package(types.ModuleType):
    def __setattr__(self, name: str, value) -> None:
        if name == "train" and isinstance(value, types.ModuleType) and type(value) is types.ModuleType:
            value.__class__ = _TrainModule
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
