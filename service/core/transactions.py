"""Transactions of the service layer: a change that fails rolls its own session work back.

A service function that writes is decorated with `rolls_back`: when it raises, whatever it had
added, changed or locked is rolled back before the error reaches the caller, so a page or a
command that catches the error reads the database as it was, never a half-made change.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from service.extensions import db

P = ParamSpec("P")
R = TypeVar("R")


def rolls_back(function: Callable[P, R]) -> Callable[P, R]:
    """Decorate a service function so that any error it raises rolls the session back first."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        except Exception:
            db.session.rollback()
            raise

    return wrapper
