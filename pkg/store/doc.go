// Package store keeps what change management writes down between runs: a
// per-environment lock, snapshots of each environment's observed state, and
// an append-only audit log, in a Store — a directory (NewLocal, the embedded
// default) or an S3 bucket such as Linode Object Storage (NewS3).
//
// # The one primitive: conditional create
//
// Everything that must not be lost or doubled rests on Store.Create, which
// writes an object only if its key is absent and refuses a second create of
// the same key with an *ExistsError (errors.Is ErrExists) — what S3 answers
// with 412 Precondition Failed to a PUT carrying If-None-Match: *. A store
// that silently overwrites instead would let two runs both "take" a lock, so
// Acquire first proves the primitive with CheckConditionalCreate and refuses,
// with an *UnsafeStoreError, to take a lock on a store that fails the proof:
// the lock fails closed.
//
// # The lock
//
// Acquire takes the lock of one environment: the object locks/<env>, created
// conditionally, holding its owner, a random token, when it was acquired, the
// last heartbeat and when it expires (LockInfo, JSON). Lock.Refresh extends
// it; Lock.Release removes it only if it is still ours. A second Acquire
// waits, polling, for as long as WithWait allows (default: not at all) and
// then fails with a *HeldError naming the holder. A lock whose holder
// stopped refreshing (crashed) is taken over once it is more than the grace
// (WithGrace) past its expiry.
//
// S3 has no portable delete-if-unchanged, so this package builds one out of
// conditional create. The lock object of one holder (one token T) is never
// rewritten: it is created, then deleted, and nothing else. Refresh writes
// the heartbeat beside it, at lockstate/<env>/<T>/heartbeat, a key only
// T's holder writes. Whoever wants to delete instance T — its holder
// releasing it, or a waiter taking over an expired one — must first win the
// conditional create of the claim lockstate/<env>/<T>/end-<n>. Two waiters
// that both saw T expired race for the same claim: one wins and deletes the
// lock, the other is refused and reads again. A holder releasing while a
// waiter takes over races for the same claim too, so a Release never deletes
// the lock that a successor created, and a takeover never deletes a lock
// that its holder released and someone else re-acquired in between. After
// the delete, the new lock is again a conditional create that a third party
// may win; the claimer then waits like anyone else.
//
// What the claims cannot close is time. A lease is only as good as the
// clocks that read it, so the remaining races are closed by the grace
// (default 30 s), which must exceed the clock skew between runners plus the
// latency of one request: a holder's Refresh is refused once its own clock
// is past the expiry (ErrLockLost), while a takeover starts only at expiry
// plus grace, so a heartbeat written in time is seen by every taker; a
// takeover that took longer than the grace between reading the lock and
// deleting it gives up and reads again; and a claim whose claimer crashed
// before deleting stays in force for twice the grace, after which the next
// claim (end-<n+1>) may be won. The claims stay in the store as small
// tombstones, one per ended lock.
//
// # Snapshots and audit records
//
// WriteSnapshot records an environment's observed state (its spec, the base
// map a plan's decisions compared, the objects seen) under
// snapshots/<env>/<time>-<digest>.json, and AppendAudit records who applied
// which plan digest with which changes and result under
// audit/<time>-<digest>.json. Both are append-only: written by conditional
// create, never rewritten; the time is UTC with fixed-width nanoseconds, so
// keys sort in time order, and the digest is the first 12 hex digits of the
// SHA-256 of the stored JSON, which ReadSnapshot and ListAudit check.
//
// No plaintext secret is written: a change.Change marked Sensitive is
// written with its values replaced by change.Redacted (its MarshalJSON), and
// an Object's fields named in its Sensitive list likewise.
//
// # Stores
//
// Local keeps each object in a file under its root (mode 0600, directories
// 0700), written to a temporary file and then linked (create) or renamed
// (put) into place, so a reader never sees half an object. S3 talks to any
// S3 endpoint with github.com/minio/minio-go/v7 and an Object Storage key's
// access key and secret; it is tested against the S3 that pkg/linodetest
// serves for the buckets it creates, which verifies every request's AWS
// Signature V4 against the secret of a key made through its API. The bucket
// and key are made through linodego by pkg/objectstorage, not here: this
// package talks S3 only.
package store
