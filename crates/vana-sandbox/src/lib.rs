//! # vana-sandbox
//!
//! Linux-namespace sandbox that runs untrusted Python, JavaScript and shell
//! code in milliseconds.
//!
//! ## Design
//!
//! [`ExecutionEngine::execute`] clones a child straight from the engine
//! process with `clone(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID |
//! CLONE_NEWIPC | CLONE_NEWUTS [| CLONE_NEWNET])` (a cgroup namespace is
//! added by the child once it sits in its cgroup). `clone` with namespace
//! flags works from a multi-threaded parent because the child is a fresh
//! single-threaded process. With `CLONE_VM` (as `posix_spawn` does) the child
//! shares the engine's memory until it execs, on its own stack, and only runs
//! async-signal-safe code on data prepared before the clone (mount plan,
//! seccomp BPF, buffers).
//!
//! The parent maps the sandbox user (uid/gid 1000 inside) to an
//! unprivileged host id (`sandbox_uid`, default 100000; never host root),
//! puts the child in a fresh cgroup with memory, pids and CPU limits, and
//! talks to it over a control socket. The child builds a fresh root
//! (see the README for the layout), receives the request, binds the
//! session workspace at `/workspace`, pivots into the new root, sets
//! rlimits, drops every capability (bounding, ambient, effective,
//! permitted, inheritable), sets `no_new_privs`, applies Landlock (write
//! only to /workspace, /tmp, /dev/shm; no TCP when the network is off;
//! signal scoping) and a seccomp allow-list derived from Docker's default
//! profile, and execs the interpreter as pid 1 of its pid namespace: when
//! it exits, the kernel kills everything else in the sandbox.
//!
//! ## Warm pool
//!
//! Sandboxes are pre-forked up to the point where they wait for the request
//! (namespaces, cgroup, uid maps, root filesystem all done); any language
//! can run in any slot. The per-session workspace is bound per request by
//! the warm child itself: until it pivots it still sees the host tree, and it
//! is still the host's root uid for permission checks (with capabilities
//! only in its own namespaces), so it can bind the path sent over the
//! socket. A background thread refills the pool.
//!
//! ## Refusal, never fallback
//!
//! When the host cannot provide what the policy requires (user namespaces,
//! cgroup memory/pids controllers, Landlock when `required`, an interpreter)
//! the engine returns [`SandboxError::IsolationUnavailable`] naming what is
//! missing and how to enable it; code never runs unsandboxed.

#![deny(missing_docs)]

mod artifacts;
mod cgroup;
mod echo;
mod engine;
mod error;
mod landlock;
mod mounts;
mod policy;
mod pool;
mod request;
mod result;
mod seccomp;
mod security;
mod spawn;

pub use echo::Echo;
pub use engine::{ExecutionEngine, HostReport};
pub use error::{Result, SandboxError};
pub use policy::{
    LandlockMode, LanguageConfig, ReadOnlyMount, ResourceLimits, SandboxPolicy, SecurityPolicy,
    DEFAULT_RESOURCE_LIMITS_YAML, DEFAULT_SECURITY_POLICIES_YAML,
};
pub use request::{CodeSource, ExecutionRequest};
pub use result::{ExecutionResult, FileArtifact, IsolationReport};
pub use security::{validate_code, Finding, SecurityManager, Severity};
pub use vana_workspace::{Workspace, WorkspaceError, Workspaces};
