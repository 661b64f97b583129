"""Tasks by name: what a config's `task:` selects (network, targets, loss, metrics).

A task module registers its class with @register("name"); adding a task adds a module here and
its import below, nothing else.
"""
from speechkit.tasks.base import TASKS, Task, get_task, register
from speechkit.tasks import asr, classify  # noqa: F401,E402  (they register their tasks)

__all__ = ["TASKS", "Task", "get_task", "register"]
