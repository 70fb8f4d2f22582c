"""The one error hierarchy of agent-ir, each class carrying its process exit code.

    IrError                      (exit 1)
    ├── InputError               (exit 2)  bad playbook, inventory, alert, arguments
    │   ├── PlaybookError                  a playbook that does not load or validate
    │   ├── WorkspaceError                 no workspace, bad ir.yaml / agents.yaml
    │   └── CaseError                      a case that does not exist or cannot be continued
    ├── BackendError             (exit 1)  a backend refused or failed an operation
    │   ├── PartialFailure                 some targets done, some not (carries the outputs)
    │   ├── NotFoundError                  the container, key or host does not exist
    │   ├── PermissionDenied               the backend said we may not
    │   ├── TransientError                 worth retrying: throttled, timed out, reset
    │   └── BackendUnavailable   (exit 3)  the daemon or endpoint cannot be reached at all
    ├── ApprovalRequired         (exit 4)  a step waits for an approval
    ├── ApprovalRefused          (exit 4)  the approver is not allowed, or said no
    ├── AgentBusy                (exit 4)  another run holds the agent, or it has an open case
    ├── JournalError             (exit 1)  the case journal is damaged (tampering)
    ├── CaseLocked               (exit 2)  another process is running this case
    ├── DryRunViolation          (exit 1)  a mutating call was attempted during a dry run
    ├── StorageError             (exit 5)  the disk is full or failing (ENOSPC, EIO) on a case write
    └── Interrupted              (exit 130)

Exceptions never print or log themselves: the CLI and TUI decide how to present them.
Every message is one plain line naming what is wrong and where.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum


class ExitCode(IntEnum):
    """Process exit codes of the `ir` command line (DESIGN.md)."""

    OK = 0
    STEP_FAILED = 1
    BAD_INPUT = 2
    BACKEND_UNAVAILABLE = 3
    APPROVAL = 4
    STORAGE = 5
    INTERRUPTED = 130


class IrError(Exception):
    """Base of every error agent-ir raises on purpose."""

    exit_code: ExitCode = ExitCode.STEP_FAILED


class InputError(IrError):
    """Input from a person or a file is wrong: fix it and try again."""

    exit_code = ExitCode.BAD_INPUT


class PlaybookError(InputError):
    """A playbook does not load or validate; the message starts with file:line:col."""


class WorkspaceError(InputError):
    """The workspace, its settings or its inventory is missing or invalid."""


class CaseError(InputError):
    """A case folder does not exist or is not in a state that allows the request."""


class BackendError(IrError):
    """A backend (Docker, AWS, Ansible, the simulated world) refused or failed an operation."""

    transient = False


class PartialFailure(BackendError):
    """Some targets of a step were handled and some were not; `outputs` says which."""

    def __init__(self, message: str, outputs: Mapping[str, object]) -> None:
        super().__init__(message)
        self.outputs = dict(outputs)


class NotFoundError(BackendError):
    """The thing the step acts on does not exist."""


class PermissionDenied(BackendError):
    """The backend refused the operation for lack of rights."""


class TransientError(BackendError):
    """A failure that may pass on its own: throttling, a timeout, a reset connection."""

    transient = True


class BackendUnavailable(BackendError):
    """The daemon or endpoint could not be reached at all."""

    exit_code = ExitCode.BACKEND_UNAVAILABLE


class ApprovalRequired(IrError):
    """A step needs an approval that has not been given yet."""

    exit_code = ExitCode.APPROVAL


class ApprovalRefused(IrError):
    """An approval was given by someone not allowed to give it, or was declined."""

    exit_code = ExitCode.APPROVAL


class AgentBusy(IrError):
    """Another run or resume holds the agent's lock, or the agent already has an open case of
    the playbook: one active containment per agent (resume that case, or `--attach` to it)."""

    exit_code = ExitCode.APPROVAL


class JournalError(IrError):
    """The journal of a case is damaged somewhere other than a torn last line."""


class CaseLocked(IrError):
    """Another process holds the case: two writers would corrupt the journal."""

    exit_code = ExitCode.BAD_INPUT


class DryRunViolation(IrError):
    """An action tried a mutating backend call while the engine was in dry-run mode."""


class StorageError(IrError):
    """A journal or evidence write failed because the disk is full or failing; nothing half-written is kept."""

    exit_code = ExitCode.STORAGE


class Interrupted(IrError):
    """The run was interrupted by the operator (Ctrl-C or SIGTERM)."""

    exit_code = ExitCode.INTERRUPTED
