/* pyinst._recorder: the thin CPython glue that points the sampling engine at this interpreter. */
/* SPDX-License-Identifier: MIT */
/*
 * Everything that needs the C API lives here and nowhere else: where
 * _PyRuntime and PyCode_Type are, which thread called us, the header's
 * argv/cwd, and turning engine errors into exceptions. The engine itself
 * (recorder/) runs on its own native thread and never touches Python.
 * All functions run with the GIL held, which also serialises them.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <frameobject.h>

#include <dlfcn.h>
#include <stdint.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "pyi/recorder.h"

/* One recorder per process: the trace and the sampler are process-wide. */
static pyi_recorder *current;
static char current_path[4096];

static int fill_target(pyi_target *t)
{
    memset(t, 0, sizeof *t);
    t->pid = 0;
    t->python_version_hex = PY_VERSION_HEX;
    void *runtime = dlsym(RTLD_DEFAULT, "_PyRuntime");
    if (runtime == NULL) {
        PyErr_SetString(PyExc_RuntimeError,
                        "pyinst: this interpreter does not export _PyRuntime");
        return -1;
    }
    t->runtime_address = (uint64_t)(uintptr_t)runtime;
    t->code_type_address = (uint64_t)(uintptr_t)&PyCode_Type;
    return 0;
}

/* The code object of the caller's innermost frame (borrowed semantics: an address). */
static uint64_t caller_code_address(void)
{
    PyFrameObject *frame = PyEval_GetFrame();
    if (frame == NULL)
        return 0;
#if PY_VERSION_HEX >= 0x03090000
    PyCodeObject *code = PyFrame_GetCode(frame);
    uint64_t address = (uint64_t)(uintptr_t)code;
    Py_DECREF(code);
    return address;
#else
    return (uint64_t)(uintptr_t)frame->f_code;
#endif
}

static PyObject *error_for(int rc, const char *detail)
{
    PyObject *type = rc == PYI_E_IO ? PyExc_OSError
                     : rc == PYI_E_NOMEM ? PyExc_MemoryError
                     : rc == PYI_E_INVALID_ARG ? PyExc_ValueError
                                               : PyExc_RuntimeError;
    PyErr_Format(type, "pyinst: %s", detail && detail[0] ? detail : pyi_strerror(rc));
    return NULL;
}

/* Converts a sequence of str into a C array of UTF-8 pointers kept alive by holder. */
static const char **string_array(PyObject *seq, size_t *count, PyObject **holder)
{
    *holder = PySequence_Fast(seq, "expected a sequence of str");
    if (*holder == NULL)
        return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(*holder);
    const char **out = PyMem_Calloc((size_t)n + 1, sizeof *out);
    if (out == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        out[i] = PyUnicode_AsUTF8(PySequence_Fast_GET_ITEM(*holder, i));
        if (out[i] == NULL) {
            PyMem_Free(out);
            return NULL;
        }
    }
    *count = (size_t)n;
    return out;
}

/* Turns a list of (key, str) pairs into header metadata entries. */
static pyi_meta_entry *meta_array(PyObject *pairs, size_t *count, PyObject **holder)
{
    *holder = PySequence_Fast(pairs, "expected a sequence of (key, value) pairs");
    if (*holder == NULL)
        return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(*holder);
    pyi_meta_entry *out = PyMem_Calloc((size_t)n + 1, sizeof *out);
    if (out == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        const char *key, *value;
        Py_ssize_t length;
        if (!PyArg_ParseTuple(PySequence_Fast_GET_ITEM(*holder, i), "ss#", &key, &value,
                              &length)) {
            PyMem_Free(out);
            return NULL;
        }
        out[i].key = key;
        out[i].value.kind = PYI_VALUE_STRING;
        out[i].value.s = value;
        out[i].value.length = (size_t)length;
    }
    *count = (size_t)n;
    return out;
}

static void fill_header_defaults(pyi_header *h, char *cwd, size_t cwd_size, char *host,
                                 size_t host_size, char *platform, size_t platform_size)
{
    struct utsname u;
    h->cwd = getcwd(cwd, cwd_size);
    if (gethostname(host, host_size) == 0) {
        host[host_size - 1] = '\0';
        h->hostname = host;
    }
    if (uname(&u) == 0) {
        snprintf(platform, platform_size, "linux-%.32s", u.machine);
        h->platform = platform;
    }
    h->python_implementation = "CPython";
}

static int start_checked(pyi_target *target, const char *path, pyi_header *header,
                         pyi_recorder_options *options, int catch_signals)
{
    char msg[512];
    int rc;
    /* Prove the layout on ourselves first: the walker must find this very
     * thread with this very frame, or we refuse to record garbage. */
    rc = pyi_recorder_check_target(target, (uint64_t)(uintptr_t)PyThreadState_Get(),
                                   caller_code_address(), msg, sizeof msg);
    if (rc != 0) {
        error_for(rc, msg);
        return -1;
    }
    pyi_recorder *r = NULL;
    rc = pyi_recorder_start(&r, path, header, target, options);
    if (rc != 0) {
        error_for(rc, pyi_recorder_error_detail(r));
        pyi_recorder_free(r);
        return -1;
    }
    if (catch_signals)
        pyi_recorder_catch_signals(r);
    current = r;
    snprintf(current_path, sizeof current_path, "%s", path);
    return 0;
}

PyDoc_STRVAR(start_doc,
"start(path, interval, all_threads, argv, meta, max_depth=0, cpu_budget=0.0,\n"
"      summary_fd=-1, catch_signals=True, memory_method=0, summary_label=None,\n"
"      report_command=None, sampler_nice=-10)\n"
"--\n\n"
"Starts recording this interpreter into the .pyitrace file at path.\n"
"interval is in seconds; all_threads=False records only the calling thread;\n"
"meta is a list of (key, str) pairs stored in the header.");

static PyObject *recorder_start(PyObject *self, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"path",          "interval",      "all_threads",   "argv",
                               "meta",          "max_depth",     "cpu_budget",    "summary_fd",
                               "catch_signals", "memory_method", "summary_label", "report_command",
                               "sampler_nice",  NULL};
    const char *path;
    double interval, budget = 0.0;
    int all_threads, summary_fd = -1, catch_signals = 1, memory_method = 0;
    const char *summary_label = NULL, *report_command = NULL;
    int sampler_nice = PYI_RECORDER_NICE_DEFAULT;
    unsigned int max_depth = 0;
    PyObject *argv_seq, *meta_seq, *argv_holder = NULL, *meta_holder = NULL;
    (void)self;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "sdpOO|Idipizzi:start", keywords, &path,
                                     &interval, &all_threads, &argv_seq, &meta_seq, &max_depth,
                                     &budget, &summary_fd, &catch_signals, &memory_method,
                                     &summary_label, &report_command, &sampler_nice))
        return NULL;
    if (current != NULL)
        return PyErr_Format(PyExc_RuntimeError, "pyinst: already recording into %s",
                            current_path);
    if (!(interval > 0 && interval <= 10.0))
        return PyErr_Format(PyExc_ValueError, "pyinst: interval must be in (0, 10] seconds");
    pyi_target target;
    pyi_header header = {0};
    pyi_recorder_options options;
    char cwd[4096], host[256], platform[64];
    int result = -1;
    header.argv = string_array(argv_seq, &header.argc, &argv_holder);
    pyi_meta_entry *meta = header.argv ? meta_array(meta_seq, &header.extra_count, &meta_holder)
                                       : NULL;
    if (meta == NULL || fill_target(&target) != 0)
        goto out_free;
    header.extra = meta;
    header.python = Py_GetVersion(); /* "3.11.7 (main, ...": cut below */
    char version[32];
    snprintf(version, sizeof version, "%.*s", (int)strcspn(header.python, " "), header.python);
    header.python = version;
    fill_header_defaults(&header, cwd, sizeof cwd, host, sizeof host, platform, sizeof platform);
    pyi_recorder_options_init(&options);
    options.interval_ns = (uint64_t)(interval * 1e9);
    options.max_depth = max_depth;
    options.cpu_budget = budget;
    options.summary_fd = summary_fd;
    options.memory_method = memory_method;
    options.summary_label = summary_label;
    options.report_command = report_command;
    options.sampler_nice = sampler_nice;
    options.only_thread = all_threads ? 0 : (uint64_t)PyThread_get_thread_ident();
    result = start_checked(&target, path, &header, &options, catch_signals);
out_free:
    PyMem_Free(meta);
    PyMem_Free((void *)header.argv);
    Py_XDECREF(meta_holder);
    Py_XDECREF(argv_holder);
    if (result != 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *stats_dict(const pyi_recorder_stats *s, const char *path)
{
    return Py_BuildValue(
        "{s:s,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K,s:K}", "path", path,
        "duration_ns", (unsigned long long)s->duration_ns, "rounds",
        (unsigned long long)s->rounds, "samples", (unsigned long long)s->samples, "invalid",
        (unsigned long long)s->invalid, "missed", (unsigned long long)s->missed, "dropped",
        (unsigned long long)s->dropped, "threads", (unsigned long long)s->threads,
        "sampler_cpu_ns", (unsigned long long)s->sampler_cpu_ns, "round_cpu_ns",
        (unsigned long long)s->round_cpu_ns, "nominal_interval_ns",
        (unsigned long long)s->nominal_interval_ns, "final_interval_ns",
        (unsigned long long)s->final_interval_ns, "rate_changes",
        (unsigned long long)s->rate_changes, "memory_reads",
        (unsigned long long)s->memory_reads, "memory_syscalls",
        (unsigned long long)s->memory_syscalls, "code_misses",
        (unsigned long long)s->code_misses, "file_bytes", (unsigned long long)s->file_bytes);
}

PyDoc_STRVAR(stop_doc, "stop() -> dict\n--\n\n"
"Stops recording, closes the trace and returns the recorder's counters.");

static PyObject *recorder_stop(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    if (current == NULL)
        return PyErr_Format(PyExc_RuntimeError, "pyinst: not recording");
    pyi_recorder *r = current;
    int rc;
    /* The sampler never needs the GIL; let other threads run while it closes. */
    Py_BEGIN_ALLOW_THREADS
    rc = pyi_recorder_stop(r);
    Py_END_ALLOW_THREADS
    current = NULL;
    pyi_recorder_stats stats;
    pyi_recorder_get_stats(r, &stats);
    PyObject *result = rc == 0 ? stats_dict(&stats, current_path)
                               : error_for(rc, pyi_recorder_error_detail(r));
    pyi_recorder_free(r);
    return result;
}

static PyObject *recorder_is_running(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    return PyBool_FromLong(current != NULL);
}

static PyObject *recorder_thread_count(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    return PyLong_FromLong(current != NULL ? pyi_recorder_thread_count(current) : 0);
}

static PyObject *recorder_stats(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    if (current == NULL)
        Py_RETURN_NONE;
    pyi_recorder_stats stats;
    pyi_recorder_get_stats(current, &stats);
    return stats_dict(&stats, current_path);
}

PyDoc_STRVAR(name_thread_doc, "name_thread(ident, native_id, name)\n--\n\n"
"Names the thread whose threading.get_ident() is ident (and kernel id\n"
"native_id, 0 if unknown) in the trace.");

static PyObject *recorder_name_thread(PyObject *self, PyObject *args)
{
    unsigned long long ident, native_id;
    const char *name;
    (void)self;
    if (!PyArg_ParseTuple(args, "KKs:name_thread", &ident, &native_id, &name))
        return NULL;
    if (current != NULL)
        pyi_recorder_name_thread(current, ident, native_id, name); /* full queue: dropped */
    Py_RETURN_NONE;
}

PyDoc_STRVAR(after_fork_doc, "_after_fork_child()\n--\n\n"
"In a fork child: forget the parent's recorder without touching its trace.");

static PyObject *recorder_after_fork_child(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    if (current != NULL) {
        pyi_recorder_abandon(current);
        current = NULL;
    }
    Py_RETURN_NONE;
}

PyDoc_STRVAR(verify_doc, "_verify_layout() -> (source, disagreements, detail)\n--\n\n"
"How the engine reads this interpreter, and (3.13) how its _Py_DebugOffsets\n"
"compare with the built-in table.");

static PyObject *recorder_verify_layout(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    pyi_target target;
    char source[64] = "", msg[512] = "";
    if (fill_target(&target) != 0)
        return NULL;
    int rc = pyi_recorder_verify_layout(&target, source, sizeof source, msg, sizeof msg);
    if (rc < 0)
        return error_for(rc, msg);
    return Py_BuildValue("(sis)", source, rc, msg);
}

static PyMethodDef recorder_methods[] = {
    {"start", (PyCFunction)(void (*)(void))recorder_start, METH_VARARGS | METH_KEYWORDS,
     start_doc},
    {"stop", recorder_stop, METH_NOARGS, stop_doc},
    {"is_running", recorder_is_running, METH_NOARGS, "is_running() -> bool"},
    {"stats", recorder_stats, METH_NOARGS, "stats() -> dict or None (while recording)"},
    {"thread_count", recorder_thread_count, METH_NOARGS,
     "thread_count() -> native threads the recorder runs in this process now"},
    {"name_thread", recorder_name_thread, METH_VARARGS, name_thread_doc},
    {"_after_fork_child", recorder_after_fork_child, METH_NOARGS, after_fork_doc},
    {"_verify_layout", recorder_verify_layout, METH_NOARGS, verify_doc},
    {NULL, NULL, 0, NULL},
};

static void recorder_module_free(void *module)
{
    (void)module;
    if (current != NULL) { /* interpreter teardown without stop(): finish the trace */
        pyi_recorder_free(current);
        current = NULL;
    }
}

static struct PyModuleDef recorder_module = {
    PyModuleDef_HEAD_INIT, "pyinst._recorder",
    "The pyinst sampling engine, bound to this interpreter.", -1, recorder_methods,
    NULL, NULL, NULL, recorder_module_free,
};

PyMODINIT_FUNC PyInit__recorder(void)
{
    PyObject *m = PyModule_Create(&recorder_module);
    if (m == NULL)
        return NULL;
    if (PyModule_AddStringConstant(m, "version", PYI_RECORDER_VERSION) != 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
