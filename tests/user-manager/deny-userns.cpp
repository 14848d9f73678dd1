// deny-userns CMD [ARGS...]: runs CMD where no process can create a user
// namespace, as in containers whose seccomp profile forbids it (Docker's
// default), on Ubuntu 24.04 with AppArmor's restriction, or with
// kernel.unprivileged_userns_clone=0. The sysctls that would do this for real
// cannot be written on the test machine, and would change the whole machine,
// so the test puts a seccomp filter (inherited by every child) on the user
// manager instead: unshare() and clone() with CLONE_NEWUSER fail with EPERM,
// and clone3() with ENOSYS, so that callers fall back to clone() (its flags
// are in memory a filter cannot read).

#include <seccomp.h>

#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

int main(int argc, char** argv)
{
    if (argc < 2) {
        std::fprintf(stderr, "usage: deny-userns CMD [ARGS...]\n");
        return 2;
    }
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
    if (!ctx)
        return 1;
    // Root may load a filter without no_new_privs, so setuid helpers later on
    // (setpriv's drop to the test user comes first anyway) keep working.
    seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
    const scmp_datum_t newUser = CLONE_NEWUSER;
    int rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(unshare), 1,
                              SCMP_A0(SCMP_CMP_MASKED_EQ, newUser, newUser));
    if (rc == 0)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                              SCMP_A0(SCMP_CMP_MASKED_EQ, newUser, newUser));
    if (rc == 0)
        rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0);
    if (rc == 0)
        rc = seccomp_load(ctx);
    seccomp_release(ctx);
    if (rc != 0) {
        std::fprintf(stderr, "deny-userns: cannot load the seccomp filter: %s\n", std::strerror(-rc));
        return 1;
    }
    ::execvp(argv[1], argv + 1);
    std::fprintf(stderr, "deny-userns: cannot run %s: %s\n", argv[1], std::strerror(errno));
    return 127;
}
