# SPDX-License-Identifier: MIT
"""Thread names for the trace: the sampler sees thread ids, threading knows the names."""
import threading

from . import _recorder

_original_set_native_id = None


def _set_native_id_and_name(self):
    # Runs once in each new thread, right after it starts (threading's own
    # _bootstrap_inner calls it): report the name, add no lasting frame.
    _original_set_native_id(self)
    try:
        _recorder.name_thread(self.ident, self.native_id or 0, self.name)
    except Exception:  # naming is best effort and must never break a thread
        pass


def name_all():
    """Sends the names of every live thread (catches renames since they started)."""
    for thread in threading.enumerate():
        if thread.ident is not None:
            _recorder.name_thread(thread.ident, getattr(thread, "native_id", None) or 0,
                                  thread.name)


def install():
    """Names the threads that exist and those that will start."""
    global _original_set_native_id
    name_all()
    original = getattr(threading.Thread, "_set_native_id", None)
    if original is not None and _original_set_native_id is None:
        _original_set_native_id = original
        threading.Thread._set_native_id = _set_native_id_and_name


def uninstall():
    global _original_set_native_id
    if _original_set_native_id is not None:
        if threading.Thread.__dict__.get("_set_native_id") is _set_native_id_and_name:
            threading.Thread._set_native_id = _original_set_native_id
        _original_set_native_id = None
