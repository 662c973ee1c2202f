"""Derivations kept on disk, so a new process (a notebook kernel, a CLI run, a test
worker) reads what an earlier one derived instead of deriving it again.

An entry is keyed by everything its value is derived from: the text of every module of
this package, the SymPy and Python versions, the function, and its arguments — the name
of a built-in update rule or model as it is (the package's text defines it), the name of
a rule registered at run time together with its :attr:`~sparsemom.derivations.definitions.optimizers.UpdateRule.definition`
(so a user's rule is derived once, in the first process that needs it, and a changed
definition is derived again), a :class:`~sparsemom.derivations.engine.moments.MomentRecursion` by its
fingerprint (the SHA-256 of its canonical form), a law registered at run time by its
:attr:`~sparsemom.derivations.definitions.laws.DataLaw.definition` (one with its own closure is derived in memory
only). Anything else in the arguments, or a value holding a ``Dummy`` symbol
(whose identity does not survive a process), is never stored. A damaged or unreadable
entry is derived again; entries are written atomically (temporary file, then rename).

Folder: ``derivations`` in the user cache (:func:`~sparsemom.derivations.core.user_cache.cache_root`:
``$SPARSEMOM_CACHE_DIR``, else the platform's, ``~/.cache/sparsemom`` on Linux).
``SPARSEMOM_DERIVATION_CACHE=off`` turns the store off.
"""

from __future__ import annotations

import hashlib
import inspect
import os
import pickle
import platform
import tempfile
from dataclasses import fields, is_dataclass
from fractions import Fraction
from functools import wraps
from pathlib import Path

import sympy as sp

from ..core.user_cache import cache_root
from ..definitions.laws import LAWS, is_built_in_law
from ..definitions.optimizers import UPDATE_RULES, is_built_in
from .moments import MomentRecursion

_PACKAGE = Path(__file__).resolve().parents[1]   # derivations/
_ROOT_PACKAGE = __package__.rpartition(".")[0]   # …derivations


def source_digest(folder: Path, patterns: tuple[str, ...] = ("*.py",)) -> str:
    """SHA-256 of the names and text of the files under ``folder`` matching ``patterns``
    (any change: a new key)."""
    digest = hashlib.sha256()
    paths = sorted({p for pattern in patterns for p in Path(folder).rglob(pattern)})
    for path in paths:
        name = path.relative_to(folder).as_posix()
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


_SOURCE = source_digest(_PACKAGE)
_VERSIONS = f"sympy {sp.__version__}, python {platform.python_version()}"


def store_dir() -> Path:
    """The folder of stored derivations: ``derivations`` in the user cache
    (:func:`~sparsemom.derivations.core.user_cache.cache_root`)."""
    return cache_root() / "derivations"


def enabled() -> bool:
    return os.environ.get("SPARSEMOM_DERIVATION_CACHE", "").lower() not in ("off", "0", "no")


def _canonical(value) -> str | None:
    """A text that determines ``value`` as a derivation input, or None (not storable)."""
    if isinstance(value, MomentRecursion):
        return f"recursion {value.fingerprint}"
    if isinstance(value, str):
        if value in UPDATE_RULES and not is_built_in(value):
            return f"rule {value!r} defined as {UPDATE_RULES[value].definition}"
        if value in LAWS and not is_built_in_law(value):
            law = LAWS[value]
            if not law.closed_moments:
                return None    # a user's closure is code the key cannot see
            return f"law {value!r} defined as {law.definition}"
        return repr(value)
    if value is None or isinstance(value, (bool, int, Fraction, sp.Rational)):
        return f"{type(value).__name__} {value!r}"
    if is_dataclass(value) and not isinstance(value, type) and value.__dataclass_params__.frozen \
            and type(value).__module__.startswith(f"{_ROOT_PACKAGE}."):
        # a frozen record of this package (e.g. an ExponentPoint): its fields, canonically
        texts = [_canonical(getattr(value, f.name)) for f in fields(value)]
        if None in texts:
            return None
        return f"{type(value).__qualname__}({', '.join(texts)})"
    return None


def _key(function, bound: inspect.BoundArguments, also: str) -> str | None:
    parts = [_SOURCE, also, _VERSIONS, f"{function.__module__}.{function.__qualname__}"]
    for name, value in bound.arguments.items():
        text = _canonical(value)
        if text is None:
            return None
        parts.append(f"{name}={text}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _load(path: Path, key: str):
    """The stored value, or raise (missing, damaged or another key's file)."""
    with open(path, "rb") as fh:
        stored_key, value = pickle.load(fh)
    if stored_key != key:
        raise KeyError(key)
    return value


def _save(path: Path, key: str, value) -> None:
    data = pickle.dumps((key, value), protocol=pickle.HIGHEST_PROTOCOL)
    if b"Dummy" in data:  # a Dummy's identity is per process: never stored
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def stored(function, *, also: str = ""):
    """Keep ``function``'s results on disk across processes (see the module docstring);
    put it under the in-memory cache (``@cached_by_definition`` or ``@lru_cache``).
    ``also``: a digest of any further code the results depend on (:func:`stored_with`)."""
    signature = inspect.signature(function)

    @wraps(function)
    def wrapper(*args, **kwargs):
        if not enabled():
            return function(*args, **kwargs)
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        key = _key(function, bound, also)
        if key is None:
            return function(*args, **kwargs)
        path = store_dir() / f"{function.__name__}-{key[:40]}.pickle"
        try:
            return _load(path, key)
        except Exception:  # missing, damaged, unreadable: derive again
            pass
        value = function(*args, **kwargs)
        try:
            _save(path, key, value)
        except (OSError, pickle.PicklingError, TypeError, AttributeError):
            pass  # a read-only or full disk, or a value that does not pickle: memory only
        return value

    return wrapper


def stored_with(folder: Path, patterns: tuple[str, ...] = ("*.py",)):
    """:func:`stored` for a function whose results also depend on the code under
    ``folder`` (e.g. a code generator outside this package): its text is in the key."""
    also = source_digest(folder, patterns)
    return lambda function: stored(function, also=also)
