/** `keepalive run`'s library side: a command in a private network namespace, captured while it runs, judged as `check` judges. */
export { startRun, runWithCapture, validateRunOptions, signalStatus, DEFAULT_SETTLE_SECONDS, type RunOptions, type RunResult, type RunHandle, type RunStart, type CommandExit } from './run.js';
export { judgeRun, renderRunText, renderRunMarkdown, renderRunJson, commandLine, exitText, kernelText, type RunOutcome, type Selection } from './render.js';
export { idleCoverage, longestIdle, type IdleCoverage, type IdleReference } from './coverage.js';
export { namespaceName, readKernelKeepalive, SYSCTLS, type KernelKeepalive } from './namespace.js';
export { invokingUser, checkIsolationPrivileges, type RunAs, type DropTool } from './system.js';
export { RunError, type RunErrorKind } from './errors.js';
