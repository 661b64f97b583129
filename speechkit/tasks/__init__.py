"""Tasks by name: what a config's `task:` selects (data, batches, network, loss, metrics).

A task module registers its class with @register("name"); every module of this package is
imported here, so adding a task adds a module and edits nothing else.
"""
from speechkit.registry import discover
from speechkit.tasks.base import TASKS, FeatureTask, Task, get_task, register

discover(__name__)

__all__ = ["TASKS", "FeatureTask", "Task", "get_task", "register"]
