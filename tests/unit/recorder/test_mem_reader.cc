// Fault-safe memory reads: every method reads good memory and reports bad memory, never faults.
// SPDX-License-Identifier: MIT
#include <gtest/gtest.h>

#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern "C" {
#include "mem_reader_internal.h"
}

namespace {

// fork() in a process ThreadSanitizer runs is unreliable (its own threads):
// the tests that fork skip themselves there.
#if defined(__SANITIZE_THREAD__)
#define SKIP_UNDER_TSAN() GTEST_SKIP() << "fork under ThreadSanitizer"
#else
#define SKIP_UNDER_TSAN() (void)0
#endif

const pyi_memory_method kMethods[] = {PYI_MEMORY_VM_READV, PYI_MEMORY_PROC_MEM, PYI_MEMORY_MEMFD};

uint64_t Address(const void *p) { return (uint64_t)(uintptr_t)p; }

// A page that is mapped, followed by one that is not.
struct GuardedPage {
    char *page = nullptr;
    size_t size = (size_t)sysconf(_SC_PAGESIZE);
    GuardedPage()
    {
        void *p = mmap(nullptr, 2 * size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        page = static_cast<char *>(p);
        munmap(page + size, size);
        memset(page, 'x', size);
    }
    ~GuardedPage() { munmap(page, size); }
};

class MemReader : public ::testing::TestWithParam<pyi_memory_method> {};

TEST_P(MemReader, ReadsOwnMemory)
{
    pyi_mem_reader m;
    char msg[256];
    ASSERT_EQ(0, pyi_mem_open(&m, 0, GetParam(), msg, sizeof msg)) << msg;
    EXPECT_EQ(GetParam(), m.method);
    const char text[] = "the quick brown fox";
    char copy[sizeof text] = {0};
    EXPECT_EQ(0, pyi_mem_read(&m, Address(text), copy, sizeof text));
    EXPECT_STREQ(text, copy);
    uint64_t value = 0, expected = 0x1122334455667788u;
    EXPECT_EQ(0, pyi_mem_read_u64(&m, Address(&expected), &value));
    EXPECT_EQ(expected, value);
    pyi_mem_close(&m);
}

TEST_P(MemReader, UnmappedMemoryIsAFaultNotACrash)
{
    pyi_mem_reader m;
    char msg[256];
    ASSERT_EQ(0, pyi_mem_open(&m, 0, GetParam(), msg, sizeof msg)) << msg;
    GuardedPage guard;
    char buf[64];
    EXPECT_EQ(PYI_MEM_FAULT, pyi_mem_read(&m, Address(guard.page + guard.size), buf, 8));
    // A range that starts mapped and runs into the unmapped page is a fault too.
    EXPECT_EQ(PYI_MEM_FAULT, pyi_mem_read(&m, Address(guard.page + guard.size - 4), buf, 8));
    EXPECT_EQ(0, pyi_mem_read(&m, Address(guard.page + guard.size - 8), buf, 8));
    EXPECT_EQ(PYI_MEM_FAULT, pyi_mem_read(&m, 0, buf, 8));
    EXPECT_EQ(PYI_MEM_FAULT, pyi_mem_read(&m, 16, buf, 8));
    EXPECT_EQ(PYI_MEM_FAULT, pyi_mem_read(&m, UINT64_MAX - 4, buf, 8));
    EXPECT_GE(m.faults, 5u);
    pyi_mem_close(&m);
}

TEST_P(MemReader, SpansReportWhichFailed)
{
    pyi_mem_reader m;
    char msg[256];
    ASSERT_EQ(0, pyi_mem_open(&m, 0, GetParam(), msg, sizeof msg)) << msg;
    GuardedPage guard;
    const char a[] = "alpha", b[] = "bravo";
    char out[3][8] = {{0}};
    pyi_mem_span spans[3] = {
        {Address(a), out[0], sizeof a},
        {Address(guard.page + guard.size), out[1], 8},
        {Address(b), out[2], sizeof b},
    };
    unsigned char failed[3];
    EXPECT_EQ(PYI_MEM_FAULT, pyi_mem_read_spans(&m, spans, 3, failed));
    EXPECT_EQ(0, failed[0]);
    EXPECT_EQ(1, failed[1]);
    EXPECT_EQ(0, failed[2]);
    EXPECT_STREQ("alpha", out[0]);
    EXPECT_STREQ("bravo", out[2]);
    spans[1] = spans[0];
    EXPECT_EQ(0, pyi_mem_read_spans(&m, spans, 3, failed));
    pyi_mem_close(&m);
}

std::string MethodName(const ::testing::TestParamInfo<pyi_memory_method> &param)
{
    return pyi_mem_method_name(param.param)[0] == '/' ? "proc_mem" : pyi_mem_method_name(param.param);
}

INSTANTIATE_TEST_SUITE_P(AllMethods, MemReader, ::testing::ValuesIn(kMethods), MethodName);

TEST(MemReaderRemote, ReadsAChildAndNoticesItIsGone)
{
    SKIP_UNDER_TSAN();
    static char shared[32] = "copied into the child by fork";
    int ready[2];
    ASSERT_EQ(0, pipe(ready));
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
        strcpy(shared, "the child's own text");
        char c = 1;
        if (write(ready[1], &c, 1) != 1)
            _exit(1);
        pause();
        _exit(0);
    }
    char c;
    ASSERT_EQ(1, read(ready[0], &c, 1));
    for (pyi_memory_method method : {PYI_MEMORY_VM_READV, PYI_MEMORY_PROC_MEM}) {
        pyi_mem_reader m;
        char msg[256], buf[32] = {0};
        ASSERT_EQ(0, pyi_mem_open(&m, pid, method, msg, sizeof msg)) << msg;
        EXPECT_EQ(0, pyi_mem_read(&m, Address(shared), buf, sizeof buf));
        EXPECT_STREQ("the child's own text", buf);
        pyi_mem_close(&m);
    }
    pyi_mem_reader m;
    char msg[256], buf[8];
    ASSERT_EQ(0, pyi_mem_open(&m, pid, PYI_MEMORY_VM_READV, msg, sizeof msg)) << msg;
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    EXPECT_EQ(PYI_MEM_GONE, pyi_mem_read(&m, Address(shared), buf, sizeof buf));
    pyi_mem_close(&m);
    // The memfd trick copies from our own address space only.
    EXPECT_NE(0, pyi_mem_open(&m, pid, PYI_MEMORY_MEMFD, msg, sizeof msg));
    close(ready[0]);
    close(ready[1]);
}

// Makes the listed syscalls fail with EPERM, as Docker's seccomp profile does
// for process_vm_readv.
int DenySyscalls(std::initializer_list<long> numbers)
{
    std::vector<sock_filter> filter;
    filter.push_back(BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)));
    for (long nr : numbers) {
        filter.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)nr, 0, 1));
        filter.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM));
    }
    filter.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
    sock_fprog prog = {(unsigned short)filter.size(), filter.data()};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return -1;
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

// In a child: deny syscalls, open with AUTO, exit with the method chosen
// (or 100 + failure).
int MethodChosenUnder(std::initializer_list<long> denied)
{
    pid_t pid = fork();
    if (pid == 0) {
        if (DenySyscalls(denied) != 0)
            _exit(99);
        pyi_mem_reader m;
        char msg[256], copy[8] = {0};
        const char text[] = "probe!";
        if (pyi_mem_open(&m, 0, PYI_MEMORY_AUTO, msg, sizeof msg) != 0)
            _exit(100);
        if (pyi_mem_read(&m, Address(text), copy, sizeof text) != 0 || strcmp(copy, text) != 0)
            _exit(101);
        _exit((int)m.method);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(MemReaderSeccomp, FallsBackWhenProcessVmReadvIsForbidden)
{
    SKIP_UNDER_TSAN();
    EXPECT_EQ(PYI_MEMORY_VM_READV, MethodChosenUnder({}));
    EXPECT_EQ(PYI_MEMORY_PROC_MEM, MethodChosenUnder({SYS_process_vm_readv}));
    EXPECT_EQ(PYI_MEMORY_MEMFD, MethodChosenUnder({SYS_process_vm_readv, SYS_pread64}));
}

TEST(MemReaderSeccomp, SaysWhyNothingWorks)
{
    SKIP_UNDER_TSAN();
    pid_t pid = fork();
    if (pid == 0) {
        if (DenySyscalls({SYS_process_vm_readv, SYS_pread64, SYS_pwrite64}) != 0)
            _exit(99);
        pyi_mem_reader m;
        char msg[512];
        int rc = pyi_mem_open(&m, 0, PYI_MEMORY_AUTO, msg, sizeof msg);
        bool named = strstr(msg, "process_vm_readv") && strstr(msg, "/proc/PID/mem") &&
                     strstr(msg, "memfd");
        _exit(rc != 0 && named ? 0 : 1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

} // namespace
