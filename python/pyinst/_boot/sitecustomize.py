# SPDX-License-Identifier: MIT
# pyinst-record's start-up hook: start recording, then hand over to the real sitecustomize.
import os as _os
import sys as _sys


def _pyinst_start():
    here = _os.path.dirname(_os.path.abspath(__file__))
    package_dir = _os.environ.get("PYINST_RECORD_PACKAGE_DIR", "")
    # The program must not see our folders on sys.path.
    _sys.path[:] = [p for p in _sys.path if _os.path.abspath(p or ".") != here]
    _sys.path_importer_cache.pop(here, None)
    _sys.path.insert(0, package_dir)
    try:
        from pyinst import _record
    finally:
        _sys.path.remove(package_dir)
        _sys.path_importer_cache.pop(package_dir, None)
    _record.bootstrap()


def _hand_over():
    # Python imports only the first sitecustomize on sys.path: ours shadows
    # the one the interpreter would have run (Debian ships one), so run that
    # one now. Without one, end like a missing sitecustomize: site ignores an
    # ImportError for this very name, and the import system then drops this
    # module from sys.modules, as if it had never existed.
    from importlib.machinery import PathFinder
    if PathFinder.find_spec("sitecustomize", _sys.path) is None:
        raise ImportError("no sitecustomize besides pyinst's", name="sitecustomize")
    del _sys.modules["sitecustomize"]
    import sitecustomize  # noqa: F401  (errors surface as they would have)


_pyinst_start()
del _pyinst_start
_hand_over()
