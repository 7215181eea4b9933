/* pyinst._report: renders a .pyitrace in process through the analyzer library and the renderers. */
/* SPDX-License-Identifier: MIT */
/*
 * The rendering half of the Python API (pyinst.Session and Profiler.print,
 * output_text, output_html...). It is a module of its own, apart from
 * pyinst._recorder: the recorder knows nothing of rendering, and this module
 * knows nothing of recording. It loads one trace (a file, or a trace held in
 * memory) into the analyzer's model (pyi/analyzer.h) and runs one renderer
 * (pyi/renderer.h) into a memory buffer, as pyinst-report does into a file.
 *
 * Loading and rendering touch no Python object, so they run without the GIL.
 * Every byte of a trace is untrusted: a bad trace is a TraceError, never a
 * crash. Errors follow the C API convention (NULL with an exception set).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <string.h>
#include <unistd.h>

#include "pyi/analyzer.h"
#include "pyi/renderer.h"

/* pyinst.TraceError (a ValueError): the bytes are not a trace we can read. */
static PyObject *TraceError;

/* Py_NewRef arrived in 3.10. */
static PyObject *new_reference(PyObject *object)
{
    Py_INCREF(object);
    return object;
}

/* ---- Errors ---------------------------------------------------------------- */

static int is_trace_damage(int rc)
{
    return rc == PYI_E_CORRUPT || rc == PYI_E_VERSION || rc == PYI_E_TRUNCATED ||
           rc == PYI_E_UNSUPPORTED || rc == PYI_E_NOT_TRACE || rc == PYI_E_LIMIT ||
           rc == PYI_E_EMPTY;
}

/* Raises the exception for a pyi_error: TraceError (with .code, e.g.
 * "E_CORRUPT") for an unreadable trace, OSError, MemoryError, ValueError or
 * RuntimeError otherwise. Always returns NULL. */
static PyObject *raise_error(int rc, const char *detail)
{
    char message[1200];
    snprintf(message, sizeof message, "pyinst: %s",
             detail && detail[0] ? detail : pyi_strerror(rc));
    if (!is_trace_damage(rc)) {
        PyObject *type = rc == PYI_E_IO ? PyExc_OSError
                         : rc == PYI_E_NOMEM ? PyExc_MemoryError
                         : rc == PYI_E_INVALID_ARG ? PyExc_ValueError
                                                   : PyExc_RuntimeError;
        PyErr_SetString(type, message);
        return NULL;
    }
    PyObject *error = PyObject_CallFunction(TraceError, "s", message);
    PyObject *code = error ? PyUnicode_FromString(pyi_err_name(rc)) : NULL;
    if (code != NULL && PyObject_SetAttrString(error, "code", code) == 0)
        PyErr_SetObject(TraceError, error);
    Py_XDECREF(code);
    Py_XDECREF(error);
    return NULL;
}

/* Text from a trace as str: names are untrusted bytes, so invalid UTF-8 is
 * replaced rather than raised. New reference, NULL on error. */
static PyObject *trace_text(const char *text)
{
    if (text == NULL)
        text = "";
    return PyUnicode_DecodeUTF8(text, (Py_ssize_t)strlen(text), "replace");
}

/* ---- The trace argument -------------------------------------------------------- */

/* A trace given by the caller: a path, or the trace's bytes in memory. */
typedef struct trace_input {
    PyObject *path_bytes; /* the file system path (bytes); NULL for a trace in memory */
    const char *path;     /* its characters; "-" becomes "./-", never standard input */
    Py_buffer data;       /* the trace itself when path is NULL */
} trace_input;

/* A str or os.PathLike is a path; any bytes-like object is the trace itself. */
static int trace_input_init(trace_input *in, PyObject *arg)
{
    memset(in, 0, sizeof *in);
    if (!PyUnicode_Check(arg) && PyObject_CheckBuffer(arg))
        return PyObject_GetBuffer(arg, &in->data, PyBUF_SIMPLE);
    if (!PyUnicode_FSConverter(arg, &in->path_bytes))
        return -1;
    in->path = PyBytes_AS_STRING(in->path_bytes);
    if (!strcmp(in->path, "-"))
        in->path = "./-";
    return 0;
}

static void trace_input_release(trace_input *in)
{
    if (in->path_bytes != NULL)
        Py_DECREF(in->path_bytes);
    else if (in->data.obj != NULL)
        PyBuffer_Release(&in->data);
    memset(in, 0, sizeof *in);
}

/* Loads and finishes a model; runs without the GIL. On failure *out is NULL
 * and the message is in detail. */
static int model_load(const trace_input *in, const pyi_model_options *options, pyi_model **out,
                      char *detail, size_t detail_size)
{
    pyi_model *model = NULL;
    int rc = pyi_model_new(&model, options);
    if (rc == 0)
        rc = in->path ? pyi_model_add_file(model, in->path)
                      : pyi_model_add_memory(model, in->data.buf, (size_t)in->data.len,
                                             "<trace in memory>");
    if (rc == 0)
        rc = pyi_model_finish(model);
    if (rc != 0) {
        snprintf(detail, detail_size, "%s", model ? pyi_model_error_detail(model) : "");
        pyi_model_free(model);
        model = NULL;
    }
    *out = model;
    return rc;
}

/* Turns each source's warning (a trace cut short, damage skipped) into a
 * RuntimeWarning; -1 if the warning filters made it an exception. */
static int warn_about_sources(const pyi_model *model)
{
    const pyi_model_info *info = pyi_model_get_info(model);
    for (uint32_t id = 1; id <= info->source_count; id++) {
        const pyi_model_source *source = pyi_model_source_get(model, id);
        if (source->warning[0] &&
            PyErr_WarnFormat(PyExc_RuntimeWarning, 1, "pyinst: %s", source->warning) != 0)
            return -1;
    }
    return 0;
}

/* Loads the trace with the GIL released, then reports warnings. NULL with an
 * exception set on failure. */
static pyi_model *load_trace(PyObject *trace, const pyi_model_options *options)
{
    trace_input in;
    if (trace_input_init(&in, trace) != 0)
        return NULL;
    pyi_model *model = NULL;
    char detail[1024] = "";
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = model_load(&in, options, &model, detail, sizeof detail);
    Py_END_ALLOW_THREADS
    /* A file that is missing or unreadable: the usual FileNotFoundError or
     * PermissionError, naming it. */
    if (rc == PYI_E_IO && in.path && access(in.path, R_OK) != 0)
        PyErr_SetFromErrnoWithFilenameObject(PyExc_OSError, trace);
    else if (rc != 0)
        raise_error(rc, detail);
    trace_input_release(&in);
    if (rc != 0)
        return NULL;
    if (warn_about_sources(model) != 0) {
        pyi_model_free(model);
        return NULL;
    }
    return model;
}

/* ---- Render options from a dict ---------------------------------------------- */

/* What render() was asked for. The strings the options point into are kept
 * alive by keep_alive while the GIL is released. */
typedef struct render_request {
    pyi_model_options model;   /* load filters (threads) */
    pyi_render_options render; /* what the renderer is asked for */
    const char **threads;      /* PyMem array behind model.filter.threads */
    PyObject *keep_alive;      /* list of the str objects pointed into */
} render_request;

static int *flag_field(pyi_render_options *r, const char *name)
{
    if (!strcmp(name, "show_all"))
        return &r->show_all;
    if (!strcmp(name, "ascii"))
        return &r->ascii;
    if (!strcmp(name, "color"))
        return &r->color;
    if (!strcmp(name, "flat"))
        return &r->flat;
    if (!strcmp(name, "flat_lines"))
        return &r->flat_lines;
    if (!strcmp(name, "percent"))
        return &r->percent;
    if (!strcmp(name, "no_header"))
        return &r->no_header;
    if (!strcmp(name, "inverted"))
        return &r->inverted;
    if (!strcmp(name, "with_source"))
        return &r->with_source;
    return NULL;
}

/* A str the request keeps alive; its UTF-8 characters, or NULL on error. */
static const char *kept_string(render_request *req, PyObject *value, const char *option)
{
    if (!PyUnicode_Check(value)) {
        PyErr_Format(PyExc_TypeError, "pyinst: option %s must be a str, not %.80s", option,
                     Py_TYPE(value)->tp_name);
        return NULL;
    }
    if (PyList_Append(req->keep_alive, value) != 0)
        return NULL;
    return PyUnicode_AsUTF8(value);
}

static int parse_metric(render_request *req, PyObject *value)
{
    const char *name = kept_string(req, value, "metric");
    if (name == NULL)
        return -1;
    if (pyi_metric_from_name(name, &req->render.metric) == 0)
        return 0;
    PyErr_Format(PyExc_ValueError,
                 "pyinst: unknown metric '%s' (wall, cpu, on-cpu, waiting, samples)", name);
    return -1;
}

static int parse_min_share(render_request *req, PyObject *value)
{
    if (value == Py_None) {
        req->render.min_share = -1; /* the renderer's default */
        return 0;
    }
    double share = PyFloat_AsDouble(value);
    if (share == -1.0 && PyErr_Occurred())
        return -1;
    if (!(share >= 0 && share <= 1)) {
        PyErr_SetString(PyExc_ValueError,
                        "pyinst: min_share is a share of the total, from 0 to 1 (0.01 = 1%)");
        return -1;
    }
    req->render.min_share = share;
    return 0;
}

static int parse_flat_limit(render_request *req, PyObject *value)
{
    long rows = PyLong_AsLong(value);
    if (rows == -1 && PyErr_Occurred())
        return -1;
    if (rows <= 0 || rows > 1000000000) {
        PyErr_SetString(PyExc_ValueError, "pyinst: flat_limit must be a positive number");
        return -1;
    }
    req->render.flat_limit = (int)rows;
    return 0;
}

/* {"group-library": False, "collapse-recursion": True}; "_" may stand for "-". */
static int parse_processors(render_request *req, PyObject *value)
{
    if (!PyDict_Check(value)) {
        PyErr_SetString(PyExc_TypeError, "pyinst: processors must be a dict {name: bool}");
        return -1;
    }
    Py_ssize_t position = 0;
    PyObject *key, *enabled;
    while (PyDict_Next(value, &position, &key, &enabled)) {
        const char *name = kept_string(req, key, "processors' names");
        if (name == NULL)
            return -1;
        char spelled[64];
        snprintf(spelled, sizeof spelled, "%s", name);
        for (char *c = spelled; *c; c++)
            *c = *c == '_' ? '-' : *c;
        unsigned bit = pyi_processor_from_name(spelled);
        int on = PyObject_IsTrue(enabled);
        if (on < 0)
            return -1;
        if (bit == 0) {
            PyErr_Format(PyExc_ValueError,
                         "pyinst: unknown processor '%s' (hide-importlib, hide-profiler, "
                         "group-library, merge-self, aggregate-calls, collapse-recursion)",
                         name);
            return -1;
        }
        req->render.processors_on =
            on ? req->render.processors_on | bit : req->render.processors_on & ~bit;
        req->render.processors_off =
            on ? req->render.processors_off & ~bit : req->render.processors_off | bit;
    }
    return 0;
}

/* A sequence of str: thread names, native ids or model ids as the analyzer's
 * thread filter takes them (pyi_filter.threads). */
static int parse_threads(render_request *req, PyObject *value)
{
    PyObject *items = PySequence_Fast(value, "pyinst: threads must be a sequence of str");
    if (items == NULL)
        return -1;
    int rc = -1;
    Py_ssize_t count = PySequence_Fast_GET_SIZE(items);
    PyMem_Free((void *)req->threads);
    req->threads = PyMem_Calloc((size_t)count + 1, sizeof *req->threads);
    req->model.filter.thread_count = 0;
    if (req->threads == NULL) {
        PyErr_NoMemory();
        goto out_items;
    }
    for (Py_ssize_t i = 0; i < count; i++) {
        req->threads[i] = kept_string(req, PySequence_Fast_GET_ITEM(items, i), "threads");
        if (req->threads[i] == NULL)
            goto out_items;
    }
    req->model.filter.threads = req->threads;
    req->model.filter.thread_count = (size_t)count;
    rc = 0;
out_items:
    Py_DECREF(items);
    return rc;
}

static int parse_option(render_request *req, const char *name, PyObject *value)
{
    int *flag = flag_field(&req->render, name);
    if (flag != NULL) {
        int on = PyObject_IsTrue(value);
        if (on < 0)
            return -1;
        *flag = on;
        return 0;
    }
    if (!strcmp(name, "metric"))
        return parse_metric(req, value);
    if (!strcmp(name, "min_share"))
        return parse_min_share(req, value);
    if (!strcmp(name, "flat_limit"))
        return parse_flat_limit(req, value);
    if (!strcmp(name, "processors"))
        return parse_processors(req, value);
    if (!strcmp(name, "threads"))
        return parse_threads(req, value);
    if (!strcmp(name, "producer")) {
        req->render.producer = kept_string(req, value, "producer");
        return req->render.producer ? 0 : -1;
    }
    PyErr_Format(PyExc_TypeError, "pyinst: unknown render option '%s'", name);
    return -1;
}

static void render_request_destroy(render_request *req)
{
    PyMem_Free((void *)req->threads);
    Py_XDECREF(req->keep_alive);
    memset(req, 0, sizeof *req);
}

static int render_request_init(render_request *req, PyObject *options)
{
    memset(req, 0, sizeof *req);
    pyi_model_options_init(&req->model);
    pyi_render_options_init(&req->render);
    req->keep_alive = PyList_New(0);
    if (req->keep_alive == NULL)
        return -1;
    if (options == NULL || options == Py_None)
        return 0;
    if (!PyDict_Check(options)) {
        PyErr_SetString(PyExc_TypeError, "pyinst: options must be a dict");
        goto err_destroy;
    }
    Py_ssize_t position = 0;
    PyObject *key, *value;
    while (PyDict_Next(options, &position, &key, &value)) {
        const char *name = kept_string(req, key, "names");
        if (name == NULL || parse_option(req, name, value) != 0)
            goto err_destroy;
    }
    return 0;
err_destroy:
    render_request_destroy(req);
    return -1;
}

/* ---- render() ------------------------------------------------------------------ */

/* With a thread filter that kept nothing, says which threads there are:
 * an empty report would hide a misspelt name. */
static PyObject *raise_no_thread_matched(const pyi_model *model)
{
    const pyi_model_info *info = pyi_model_get_info(model);
    PyObject *names = PyList_New(0);
    if (names == NULL)
        return NULL;
    for (uint32_t id = 1; id <= info->thread_count; id++) {
        const pyi_model_thread *t = pyi_model_thread_get(model, id);
        PyObject *text = trace_text(t->name[0] ? t->name : "unnamed");
        PyObject *entry = text ? PyUnicode_FromFormat("%U (native id %llu)", text,
                                                      (unsigned long long)t->native_id)
                               : NULL;
        int appended = entry != NULL && PyList_Append(names, entry) == 0;
        Py_XDECREF(entry);
        Py_XDECREF(text);
        if (!appended) {
            Py_DECREF(names);
            return NULL;
        }
    }
    PyObject *separator = PyUnicode_FromString(", ");
    PyObject *joined = separator ? PyUnicode_Join(separator, names) : NULL;
    if (joined != NULL)
        PyErr_Format(PyExc_ValueError,
                     "pyinst: no samples from the threads selected; the trace's threads: %U",
                     joined);
    Py_XDECREF(joined);
    Py_XDECREF(separator);
    Py_DECREF(names);
    return NULL;
}

/* Runs the renderer into a memory buffer; without the GIL. */
static int render_to_buffer(const pyi_renderer *renderer, const pyi_model *model,
                            const pyi_render_options *options, pyi_buffer *out, char *error,
                            size_t error_size)
{
    pyi_sink sink;
    pyi_buffer_init(out, &sink);
    int rc = renderer->render(model, options, &sink, error, error_size);
    return rc == PYI_E_IO ? PYI_E_NOMEM : rc; /* a memory sink fails only when realloc does */
}

/* The rendered bytes as str (text formats) or bytes (binary ones). */
static PyObject *rendered_object(const pyi_renderer *renderer, const pyi_buffer *out)
{
    const char *data = out->data ? out->data : "";
    if (renderer->binary)
        return PyBytes_FromStringAndSize(data, (Py_ssize_t)out->size);
    return PyUnicode_DecodeUTF8(data, (Py_ssize_t)out->size, "replace");
}

static PyObject *render_model(const pyi_renderer *renderer, const pyi_model *model,
                              const render_request *req)
{
    const pyi_model_info *info = pyi_model_get_info(model);
    if (req->model.filter.thread_count && !info->totals.samples && info->samples_read)
        return raise_no_thread_matched(model);
    pyi_buffer out;
    char error[512] = "";
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = render_to_buffer(renderer, model, &req->render, &out, error, sizeof error);
    Py_END_ALLOW_THREADS
    PyObject *result = rc == 0 ? rendered_object(renderer, &out) : raise_error(rc, error);
    pyi_buffer_destroy(&out);
    return result;
}

PyDoc_STRVAR(render_doc,
"render(trace, renderer='text', options=None) -> str or bytes\n--\n\n"
"Loads trace (a path, or a bytes-like object holding a whole trace) and renders\n"
"it with the named renderer (see renderers()): str for text formats, bytes for\n"
"binary ones (pprof). options is a dict of: show_all, ascii, color, flat,\n"
"flat_lines, flat_limit, percent, no_header, inverted, with_source (bools);\n"
"min_share (0..1 or None), metric ('wall', 'cpu', 'on-cpu', 'waiting',\n"
"'samples'), processors ({name: bool}), threads (sequence of str: names,\n"
"native ids or model ids), producer (str).\n"
"Raises TraceError for a file that is not a readable trace, OSError when it\n"
"cannot be read, ValueError or TypeError for bad options.");

static PyObject *report_render(PyObject *self, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"trace", "renderer", "options", NULL};
    PyObject *trace, *options = NULL;
    const char *renderer_name = "text";
    (void)self;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|sO:render", keywords, &trace,
                                     &renderer_name, &options))
        return NULL;
    const pyi_renderer *renderer = pyi_renderer_find(renderer_name);
    if (renderer == NULL)
        return PyErr_Format(PyExc_ValueError, "pyinst: unknown renderer '%s'", renderer_name);
    render_request req;
    if (render_request_init(&req, options) != 0)
        return NULL;
    PyObject *result = NULL;
    pyi_model *model = load_trace(trace, &req.model);
    if (model != NULL)
        result = render_model(renderer, model, &req);
    pyi_model_free(model);
    render_request_destroy(&req);
    return result;
}

/* ---- info() -------------------------------------------------------------------- */

/* dict[key] = value, stealing value; -1 on error (value NULL included). */
static int set_item(PyObject *dict, const char *key, PyObject *value)
{
    if (value == NULL)
        return -1;
    int rc = PyDict_SetItemString(dict, key, value);
    Py_DECREF(value);
    return rc;
}

static PyObject *seconds(uint64_t ns)
{
    return PyFloat_FromDouble((double)ns / 1e9);
}

static PyObject *thread_dict(const pyi_model_thread *t)
{
    PyObject *d = PyDict_New();
    if (d == NULL)
        return NULL;
    if (set_item(d, "id", PyLong_FromUnsignedLong(t->id)) != 0 ||
        set_item(d, "name", trace_text(t->name)) != 0 ||
        set_item(d, "native_id", PyLong_FromUnsignedLongLong(t->native_id)) != 0 ||
        set_item(d, "pid", PyLong_FromLongLong(t->pid)) != 0 ||
        set_item(d, "is_main", PyBool_FromLong(t->is_main)) != 0 ||
        set_item(d, "sample_count", PyLong_FromUnsignedLongLong(t->totals.samples)) != 0 ||
        set_item(d, "wall_time", seconds(t->totals.wall_ns)) != 0) {
        Py_DECREF(d);
        return NULL;
    }
    return d;
}

static PyObject *thread_list(const pyi_model *model)
{
    const pyi_model_info *info = pyi_model_get_info(model);
    PyObject *list = PyList_New((Py_ssize_t)info->thread_count);
    for (uint32_t id = 1; list != NULL && id <= info->thread_count; id++) {
        PyObject *t = thread_dict(pyi_model_thread_get(model, id));
        if (t == NULL)
            Py_CLEAR(list);
        else
            PyList_SET_ITEM(list, (Py_ssize_t)id - 1, t);
    }
    return list;
}

/* The first (here: only) source's header facts. */
static int fill_source_facts(PyObject *d, const pyi_model_source *s)
{
    return set_item(d, "program", trace_text(s->program)) != 0 ||
                   set_item(d, "python", trace_text(s->python)) != 0 ||
                   set_item(d, "recorder", trace_text(s->recorder)) != 0 ||
                   set_item(d, "cwd", trace_text(s->cwd)) != 0 ||
                   set_item(d, "pid", PyLong_FromLongLong(s->pid)) != 0 ||
                   set_item(d, "closed_cleanly", PyBool_FromLong(s->closed_cleanly)) != 0 ||
                   set_item(d, "warning", trace_text(s->warning)) != 0
               ? -1
               : 0;
}

static PyObject *info_dict(const pyi_model *model)
{
    const pyi_model_info *info = pyi_model_get_info(model);
    PyObject *d = PyDict_New();
    if (d == NULL)
        return NULL;
    if (set_item(d, "start_time", seconds(info->start_wall_ns)) != 0 ||
        set_item(d, "duration", seconds(info->duration_ns)) != 0 ||
        set_item(d, "interval", seconds(info->interval_ns)) != 0 ||
        set_item(d, "sample_count", PyLong_FromUnsignedLongLong(info->totals.samples)) != 0 ||
        set_item(d, "lost_samples", PyLong_FromUnsignedLongLong(info->lost_samples)) != 0 ||
        set_item(d, "wall_time", seconds(info->totals.wall_ns)) != 0 ||
        set_item(d, "cpu_time",
                 info->has_cpu ? seconds(info->totals.cpu_ns) : new_reference(Py_None)) != 0 ||
        set_item(d, "threads", thread_list(model)) != 0 ||
        (info->source_count && fill_source_facts(d, pyi_model_source_get(model, 1)) != 0)) {
        Py_DECREF(d);
        return NULL;
    }
    return d;
}

PyDoc_STRVAR(info_doc,
"info(trace) -> dict\n--\n\n"
"What a trace holds: start_time (Unix seconds), duration, interval, wall_time\n"
"and cpu_time (seconds; cpu_time None if not measured), sample_count,\n"
"lost_samples, threads (dicts: id, name, native_id, pid, is_main,\n"
"sample_count, wall_time), and the header's program, python, recorder, cwd,\n"
"pid, closed_cleanly and warning. Same errors as render().");

static PyObject *report_info(PyObject *self, PyObject *trace)
{
    (void)self;
    pyi_model_options options;
    pyi_model_options_init(&options);
    pyi_model *model = load_trace(trace, &options);
    if (model == NULL)
        return NULL;
    PyObject *result = info_dict(model);
    pyi_model_free(model);
    return result;
}

/* ---- renderers() and the module ------------------------------------------------ */

PyDoc_STRVAR(renderers_doc,
"renderers() -> list of (name, extension, description, binary)\n--\n\n"
"Every output format built in, in a stable order.");

static PyObject *report_renderers(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    size_t count;
    const pyi_renderer *const *all = pyi_renderers(&count);
    PyObject *list = PyList_New((Py_ssize_t)count);
    for (size_t i = 0; list != NULL && i < count; i++) {
        PyObject *entry = Py_BuildValue("(sssO)", all[i]->name, all[i]->extension,
                                        all[i]->description,
                                        all[i]->binary ? Py_True : Py_False);
        if (entry == NULL)
            Py_CLEAR(list);
        else
            PyList_SET_ITEM(list, (Py_ssize_t)i, entry);
    }
    return list;
}

static PyMethodDef report_methods[] = {
    {"render", (PyCFunction)(void (*)(void))report_render, METH_VARARGS | METH_KEYWORDS,
     render_doc},
    {"info", report_info, METH_O, info_doc},
    {"renderers", report_renderers, METH_NOARGS, renderers_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef report_module = {
    PyModuleDef_HEAD_INIT, "pyinst._report",
    "Renders .pyitrace files in process (the analyzer library and the renderers).", -1,
    report_methods, NULL, NULL, NULL, NULL,
};

PyDoc_STRVAR(trace_error_doc,
"The data is not a trace pyinst can read: not a .pyitrace, empty, cut inside\n"
"its header, corrupt, or from a newer format version. .code names the error,\n"
"e.g. 'E_CORRUPT'.");

PyMODINIT_FUNC PyInit__report(void)
{
    PyObject *m = PyModule_Create(&report_module);
    if (m == NULL)
        return NULL;
    if (TraceError == NULL)
        TraceError = PyErr_NewExceptionWithDoc("pyinst.TraceError", trace_error_doc,
                                               PyExc_ValueError, NULL);
    if (TraceError == NULL)
        goto err_module;
    if (PyModule_AddObject(m, "TraceError", new_reference(TraceError)) != 0) {
        Py_DECREF(TraceError); /* not stolen on failure */
        goto err_module;
    }
    if (PyModule_AddStringConstant(m, "version", PYI_ANALYZER_VERSION) != 0)
        goto err_module;
    return m;
err_module:
    Py_DECREF(m);
    return NULL;
}
