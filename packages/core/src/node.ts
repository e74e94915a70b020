// @vkd/core/node: helpers that need Node's file system (kept out of the root entry, which bundles for browsers).
export { acquireAdvisoryLock, isHeldLock, isStaleLock, processStartTime, readLockHolder } from './advisory-lock';
export type { AdvisoryLock, LockHolder, LockRefusal } from './advisory-lock';
