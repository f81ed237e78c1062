"""Confines the kernel process before any user code runs: rlimits, no-new-privs and a seccomp filter.

The host (``src/sandbox/isolation/sandbox.ts``) passes the limits as environment variables; the
kernel calls ``apply_from_environment()`` first thing at start-up. Inside bubblewrap this is the
second wall (the namespaces are the first); with ``--no-sandbox`` it is the only one.

Every limit is set as both soft and hard limit, so the code that runs afterwards can lower it but
never raise it again (raising a hard limit needs CAP_SYS_RESOURCE, which the sandbox never has).
"""

import ctypes
import errno
import os
import resource
import signal
import socket

#: Environment variable → (rlimit, name in the notes). Values are integers (bytes, seconds, counts).
LIMIT_VARIABLES = {
    'IQUERY_LIMIT_MEMORY': (resource.RLIMIT_AS, 'address space'),
    'IQUERY_LIMIT_FILE_SIZE': (resource.RLIMIT_FSIZE, 'file size'),
    'IQUERY_LIMIT_PROCESSES': (resource.RLIMIT_NPROC, 'processes'),
    'IQUERY_LIMIT_OPEN_FILES': (resource.RLIMIT_NOFILE, 'open files'),
    'IQUERY_LIMIT_CPU': (resource.RLIMIT_CPU, 'cpu seconds'),
}

#: Descriptors the kernel protocol uses: stdin, stdout, stderr, replies, control.
PROTOCOL_DESCRIPTORS = (0, 1, 2, 3, 4)

_PR_SET_PDEATHSIG = 1
_PR_SET_NO_NEW_PRIVS = 38
_PR_GET_NO_NEW_PRIVS = 39

#: Namespace flags of clone(2); any of them in a clone call is refused.
_CLONE_NAMESPACE_FLAGS = (
    0x00020000,  # CLONE_NEWNS
    0x02000000,  # CLONE_NEWCGROUP
    0x04000000,  # CLONE_NEWUTS
    0x08000000,  # CLONE_NEWIPC
    0x10000000,  # CLONE_NEWUSER
    0x20000000,  # CLONE_NEWPID
    0x40000000,  # CLONE_NEWNET
)

#: Refused outright with EPERM. Grouped by what they would let the code do.
DENIED_SYSCALLS = (
    # look into or steer other processes
    'ptrace', 'process_vm_readv', 'process_vm_writev', 'pidfd_getfd', 'kcmp',
    # change the filesystem view
    'mount', 'umount2', 'pivot_root', 'chroot', 'open_tree', 'move_mount', 'fsopen', 'fsconfig',
    'fsmount', 'fspick', 'mount_setattr', 'open_by_handle_at',
    # new namespaces (clone with namespace flags is filtered by argument below)
    'unshare', 'setns',
    # large kernel attack surface, and io_uring can open sockets without calling socket(2)
    'bpf', 'perf_event_open', 'userfaultfd', 'io_uring_setup', 'io_uring_enter', 'io_uring_register',
    'keyctl', 'add_key', 'request_key',
    # the machine itself
    'kexec_load', 'kexec_file_load', 'init_module', 'finit_module', 'delete_module', 'reboot',
    'swapon', 'swapoff', 'acct', 'quotactl', 'quotactl_fd', 'syslog', 'vhangup', 'iopl', 'ioperm',
    'settimeofday', 'clock_settime', 'clock_adjtime',
)


def apply_from_environment(environment=None):
    """Applies every confinement it can and returns one note per step, in order.

    Reads the ``IQUERY_LIMIT_*`` variables (a missing or empty variable leaves that limit alone),
    sets RLIMIT_CORE to 0, closes descriptors leaked from the host, asks for SIGKILL when the parent
    dies, sets no-new-privs and installs the seccomp filter when python3-seccomp is importable.
    Never raises for a step the system does not support: that step's note says ``not applied`` and
    why. Call it from the main thread before any user code runs; threads already running get the
    filter too. A malformed variable raises ValueError (a bug in the host).
    """
    environment = os.environ if environment is None else environment
    notes = []
    for variable, (limit, name) in LIMIT_VARIABLES.items():
        text = environment.get(variable, '').strip()
        if text:
            notes.append(_set_limit(limit, name, int(text)))
    notes.append(_set_limit(resource.RLIMIT_CORE, 'core dumps', 0))
    notes.append(close_leaked_descriptors())
    notes.append(die_with_parent())
    notes.append(set_no_new_privileges())
    notes.append(install_seccomp_filter())
    return [note for note in notes if note]


def _set_limit(limit, name, value):
    _, hard = resource.getrlimit(limit)
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    try:
        resource.setrlimit(limit, (value, value))
    except (ValueError, OSError) as error:
        return f'rlimit {name}: not applied ({error})'
    return f'rlimit {name} {value}'


def close_leaked_descriptors(keep=PROTOCOL_DESCRIPTORS):
    """Closes inheritable descriptors above the protocol's, which only a careless parent leaves open.

    Descriptors Python opens itself are non-inheritable (PEP 446), so the kernel's own files are
    never touched; what survived the exec into this process is inheritable. Returns a note, or ''
    when there was nothing to close.
    """
    closed = []
    try:
        candidates = [int(name) for name in os.listdir('/proc/self/fd')]
    except OSError:
        candidates = range(max(keep) + 1, 1024)
    for descriptor in candidates:
        if descriptor in keep:
            continue
        try:
            if os.get_inheritable(descriptor):
                os.close(descriptor)
                closed.append(descriptor)
        except OSError:
            pass  # the listing's own descriptor, already closed
    return f'closed leaked descriptors {", ".join(map(str, closed))}' if closed else ''


def die_with_parent():
    """Asks for SIGKILL when the parent dies: without bwrap (--no-sandbox) the parent is iquery itself."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            return f'parent-death signal: not applied ({os.strerror(ctypes.get_errno())})'
    except (OSError, AttributeError) as error:
        return f'parent-death signal: not applied ({error})'
    return 'parent-death signal'


def set_no_new_privileges():
    """Sets PR_SET_NO_NEW_PRIVS: no exec can gain privileges (setuid binaries, file capabilities)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1:
            return 'no-new-privs'
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            return f'no-new-privs: not applied ({os.strerror(ctypes.get_errno())})'
    except (OSError, AttributeError) as error:
        return f'no-new-privs: not applied ({error})'
    return 'no-new-privs'


def install_seccomp_filter():
    """Installs the seccomp filter: everything allowed except network sockets and the calls above.

    Default ALLOW keeps pandas, numpy and matplotlib working without a curated allow list; the
    namespaces and the unprivileged uid are the main walls, this closes the calls that would open
    a hole in them. clone3 gets ENOSYS (its flags live in memory seccomp cannot read), so libc
    falls back to clone, whose flags are checked. System calls from a foreign ABI (32-bit int 0x80,
    x32) kill the process: libseccomp's default for a foreign architecture.
    """
    try:
        import seccomp
    except ImportError:
        return 'seccomp: not applied (python3-seccomp is not installed)'
    refused = seccomp.ERRNO(errno.EPERM)
    try:
        syscall_filter = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
        # Applies to threads already running (numpy's, the kernel's reader) as well as this one.
        syscall_filter.set_attr(seccomp.Attr.CTL_TSYNC, 1)
        syscall_filter.add_rule(refused, 'socket', seccomp.Arg(0, seccomp.NE, socket.AF_UNIX))
        for flag in _CLONE_NAMESPACE_FLAGS:
            syscall_filter.add_rule(refused, 'clone', seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
        _add_if_known(syscall_filter, seccomp.ERRNO(errno.ENOSYS), 'clone3')
        for name in DENIED_SYSCALLS:
            _add_if_known(syscall_filter, refused, name)
        syscall_filter.load()
    except (OSError, RuntimeError, ValueError) as error:
        return f'seccomp: not applied ({error})'
    return 'seccomp'


def _add_if_known(syscall_filter, action, name):
    """Adds a rule unless this architecture or libseccomp does not know the call (then it cannot be made)."""
    try:
        syscall_filter.add_rule(action, name)
    except (RuntimeError, ValueError):
        pass
