"""Networks by name, for the configs' `model.name`."""
import difflib
import inspect

from speechkit.errors import SpeechkitError
from speechkit.registry import Registry

MODELS = Registry("model")


def build_model(conf, *args, skip=()):
    """MODELS[conf['name']](*args, **rest of conf), with the config's keys checked first.

    A key the network does not take is an error naming it and the nearest one it does (a
    network taking **kwargs checks its own). `skip` names keys that belong to the task.
    """
    conf = {k: v for k, v in conf.items() if k not in skip}
    cls = MODELS.get(conf.pop("name", None))
    params = inspect.signature(cls).parameters
    if not any(p.kind is p.VAR_KEYWORD for p in params.values()):
        known = [n for n in params if n not in ("self",)][len(args):]
        for key in conf:
            if key not in known:
                near = difflib.get_close_matches(key, known, n=1)
                hint = f"; did you mean model.{near[0]}?" if near else f"; known: {', '.join(known)}"
                raise SpeechkitError(f"unknown config key model.{key} for network "
                                     f"{cls.__name__}{hint}")
    try:
        return cls(*args, **conf)
    except (TypeError, ValueError) as e:
        raise SpeechkitError(f"model section: {e}") from None
