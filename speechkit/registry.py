"""Name -> thing registries, so that configs and options select tasks, models, corpora, profiles.

Adding one adds a decorated definition in its own module; nothing central is edited.
"""
from speechkit.errors import SpeechkitError


class Registry(dict):
    def __init__(self, what):
        super().__init__()
        self.what = what

    def register(self, name):
        def add(obj):
            if name in self:
                raise ValueError(f"{self.what} '{name}' registered twice")
            self[name] = obj
            return obj
        return add

    def get(self, name):
        if name not in self:
            raise SpeechkitError(f"unknown {self.what} '{name}'; known: {', '.join(sorted(self))}")
        return self[name]


def discover(package):
    """Import every module of `package` (its __name__), so their decorators fill the registries.

    A package's __init__ calls this last; adding a task, network, corpus or inference front-end
    is then adding a module, with no import list to edit.
    """
    import importlib
    import pkgutil

    pkg = importlib.import_module(package)
    for info in pkgutil.iter_modules(pkg.__path__):
        importlib.import_module(f"{package}.{info.name}")
