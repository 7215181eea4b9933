/* pyinst-record's command line: options before the program, then the program as python takes it. */
/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "record_cli.h"

/* ---- Internal --------------------------------------------------------- */

/* Takes the value of an option given as "--name=value", "--name value" or "-xvalue". */
static const char *option_value(int argc, char **argv, int *i, const char *arg,
                                size_t name_length, char *err, size_t err_size)
{
    if (arg[name_length] == '=')
        return arg + name_length + 1;
    if (arg[1] != '-' && arg[2] != '\0')
        return arg + 2; /* -ofile */
    if (*i + 1 >= argc) {
        snprintf(err, err_size, "option %.*s needs a value", (int)name_length, arg);
        return NULL;
    }
    return argv[++*i];
}

static int is_option(const char *arg, const char *short_name, const char *long_name,
                     size_t *length)
{
    size_t n = strlen(long_name);
    if (strncmp(arg, long_name, n) == 0 && (arg[n] == '\0' || arg[n] == '=')) {
        *length = n;
        return 1;
    }
    if (short_name != NULL && strncmp(arg, short_name, 2) == 0) {
        *length = 2;
        return 1;
    }
    return 0;
}

static int parse_number(const char *text, double low, double high, double *out)
{
    char *end;
    double value = strtod(text, &end);
    if (end == text || *end != '\0' || !(value >= low && value <= high))
        return -1;
    *out = value;
    return 0;
}

/* One option at argv[*i]. 0 = taken, 1 = help/version done, -1 = error. */
static int parse_option(int argc, char **argv, int *i, record_options *o, char *err,
                        size_t err_size)
{
    const char *arg = argv[*i], *value;
    size_t n;
    double number;
    if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
        record_usage(stdout);
        return 1;
    }
    if (strcmp(arg, "--version") == 0) {
        printf("pyinst-record 0.1.0\n");
        return 1;
    }
    if (strcmp(arg, "-q") == 0 || strcmp(arg, "--quiet") == 0) {
        o->quiet = 1;
        return 0;
    }
    if (strcmp(arg, "--subprocesses") == 0) {
        o->subprocesses = 1;
        return 0;
    }
    if (strcmp(arg, "--live") == 0) {
        o->live = 1;
        return 0;
    }
#define VALUE()                                                                            \
    if ((value = option_value(argc, argv, i, arg, n, err, err_size)) == NULL)              \
        return -1
    if (is_option(arg, "-o", "--outfile", &n)) {
        VALUE();
        o->output = value;
    } else if (is_option(arg, "-i", "--interval", &n)) {
        VALUE();
        if (parse_number(value, 1e-5, 10.0, &o->interval) != 0) {
            snprintf(err, err_size, "--interval takes seconds between 0.00001 and 10, not '%s'",
                     value);
            return -1;
        }
        o->interval_text = value;
    } else if (is_option(arg, NULL, "--python", &n)) {
        VALUE();
        o->python = value;
    } else if (is_option(arg, "-p", "--pid", &n)) {
        VALUE();
        if (parse_number(value, 1, 4194304, &number) != 0 || number != (double)(int64_t)number) {
            snprintf(err, err_size, "--pid takes a process id, not '%s'", value);
            return -1;
        }
        o->pid = (int64_t)number;
    } else if (is_option(arg, "-d", "--duration", &n)) {
        VALUE();
        if (parse_number(value, 0.001, 1e7, &o->duration) != 0) {
            snprintf(err, err_size, "--duration takes seconds (more than 0), not '%s'", value);
            return -1;
        }
    } else if (is_option(arg, NULL, "--threads", &n)) {
        VALUE();
        char *end;
        unsigned long long tid = strtoull(value, &end, 10);
        int is_tid = end != value && *end == '\0' && tid != 0;
        if (!is_tid && strcmp(value, "all") != 0 && strcmp(value, "main") != 0) {
            snprintf(err, err_size, "--threads takes 'all', 'main' or a thread id, not '%s'",
                     value);
            return -1;
        }
        if (is_tid)
            o->thread_tid = tid; /* o->threads stays "all": the walker picks the one */
        else
            o->threads = value;
    } else if (is_option(arg, NULL, "--max-depth", &n)) {
        VALUE();
        if (parse_number(value, 64, 1u << 20, &number) != 0) {
            snprintf(err, err_size, "--max-depth takes a number from 64, not '%s'", value);
            return -1;
        }
        o->max_depth = (unsigned)number;
    } else if (is_option(arg, NULL, "--sampler-nice", &n)) {
        VALUE();
        if (parse_number(value, -20, 19, &number) != 0 || number != (int)number) {
            snprintf(err, err_size, "--sampler-nice takes a nice value from -20 to 19, not '%s'",
                     value);
            return -1;
        }
        o->sampler_nice = (int)number;
    } else if (is_option(arg, NULL, "--cpu-budget", &n)) {
        VALUE();
        if (parse_number(value, 0.001, 1.0, &o->cpu_budget) != 0) {
            snprintf(err, err_size, "--cpu-budget takes a share of one CPU in (0, 1], not '%s'",
                     value);
            return -1;
        }
    } else {
        snprintf(err, err_size, "unknown option '%s' (see --help)", arg);
        return -1;
    }
#undef VALUE
    return 0;
}

/* ---- Public (to the command) -------------------------------------------- */

void record_usage(FILE *out)
{
    fputs("usage: pyinst-record [options] script.py [args...]\n"
          "       pyinst-record [options] -m module [args...]\n"
          "       pyinst-record [options] -c code [args...]\n"
          "       pyinst-record [options] --pid PID\n"
          "\n"
          "Runs a Python program unchanged, or attaches to a running one, and records\n"
          "where its threads spend time into a .pyitrace file (see it with\n"
          "pyinst-report FILE).\n"
          "\n"
          "options:\n"
          "  -o, --outfile FILE     trace to write (default: pyinst-DATE-TIME.pyitrace here)\n"
          "  -i, --interval SECS    time between samples, jittered +-25% (default 0.001)\n"
          "  -p, --pid PID          record the running process PID from outside, without\n"
          "                         stopping it (needs permission to read its memory)\n"
          "  -d, --duration SECS    stop recording after SECS (default: until Ctrl-C, or\n"
          "                         until the process exits)\n"
          "      --subprocesses     also record the Python children and grandchildren\n"
          "                         (each as its own process in the trace)\n"
          "      --live             show the busiest functions while recording (q quits)\n"
          "      --python PATH      CPython 3.8-3.13 interpreter to run (default: python3)\n"
          "      --threads WHICH    'all' Python threads (default), just the 'main' one, or\n"
          "                         (attaching) the one with that OS thread id\n"
          "      --max-depth N      innermost frames kept per stack (default 2048)\n"
          "      --cpu-budget SHARE sampler CPU allowed before it slows down (default 0.1)\n"
          "      --sampler-nice N   the sampler thread's nice value, when permitted (-10;\n"
          "                         0 leaves it as the program's)\n"
          "  -q, --quiet            no summary at the end\n"
          "  -h, --help             this help\n"
          "      --version          the version\n"
          "\n"
          "pyinst-record becomes the program (same pid, exit status, output and\n"
          "signals), and processes it forks or executes are not recorded. With\n"
          "--subprocesses, --live or --duration it starts the program as its child\n"
          "instead and records it from outside, as --pid does; it exits with the\n"
          "program's status.\n",
          out);
}

int record_parse_args(int argc, char **argv, record_options *o, char *err, size_t err_size)
{
    memset(o, 0, sizeof *o);
    o->interval = 0.001;
    o->interval_text = "0.001";
    o->threads = "all";
    o->sampler_nice = -10;
    int i = 1;
    for (; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--") == 0) {
            i++;
            break;
        }
        if (strcmp(arg, "-m") == 0 || strcmp(arg, "-c") == 0) {
            if (i + 1 >= argc) {
                snprintf(err, err_size, "%s needs a %s", arg, arg[1] == 'm' ? "module" : "program");
                return -1;
            }
            if (o->pid != 0) {
                snprintf(err, err_size, "give either --pid or a program to run, not both");
                return -1;
            }
            o->kind = arg[1] == 'm' ? RECORD_RUN_MODULE : RECORD_RUN_CODE;
            o->target = argv[i + 1];
            o->args = argv + i + 2;
            o->arg_count = argc - i - 2;
            return 0;
        }
        if (arg[0] != '-' || arg[1] == '\0')
            break;
        int rc = parse_option(argc, argv, &i, o, err, err_size);
        if (rc != 0)
            return rc;
    }
    if (o->pid != 0) {
        if (i < argc) {
            snprintf(err, err_size, "give either --pid or a program to run, not both");
            return -1;
        }
        return 0;
    }
    if (o->thread_tid != 0) {
        snprintf(err, err_size, "--threads TID needs --pid");
        return -1;
    }
    if (i >= argc) {
        snprintf(err, err_size, "no program to run (give script.py, -m module or -c code)");
        return -1;
    }
    o->kind = RECORD_RUN_SCRIPT;
    o->target = argv[i];
    o->args = argv + i + 1;
    o->arg_count = argc - i - 1;
    return 0;
}

char **record_program_argv(const record_options *o, const char *python)
{
    char **argv = calloc((size_t)o->arg_count + 4, sizeof *argv);
    if (argv == NULL)
        return NULL;
    int n = 0;
    argv[n++] = (char *)python;
    if (o->kind == RECORD_RUN_MODULE)
        argv[n++] = "-m";
    else if (o->kind == RECORD_RUN_CODE)
        argv[n++] = "-c";
    argv[n++] = (char *)o->target;
    for (int i = 0; i < o->arg_count; i++)
        argv[n++] = o->args[i];
    return argv;
}

int record_uses_attach(const record_options *o)
{
    return o->pid != 0 || o->subprocesses || o->live || o->duration > 0;
}

void record_default_output(char *out, size_t size)
{
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    snprintf(out, size, "pyinst-%s.pyitrace", stamp);
    struct stat st;
    for (int n = 2; stat(out, &st) == 0 && n < 1000; n++)
        snprintf(out, size, "pyinst-%s-%d.pyitrace", stamp, n);
}
