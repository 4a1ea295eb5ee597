// Package objectstorage makes, through the Linode API (linodego), the
// Object Storage bucket and access key an S3 store lives in — the snapshot
// and audit store of pkg/store, for one. pkg/store itself talks S3 only and
// imports no Linode client; this package talks to Linode only and no S3.
//
// EnsureBucket creates a bucket when it is absent; a second call finds it
// and sends no write. CreateAccessKey creates a key limited to one bucket
// and returns its secret — the only time Linode ever shows it (a GET of a
// key answers it redacted). A key of the same label that already exists is
// found and not recreated, and CreateAccessKey answers *KeyExistsError
// (errors.Is ErrSecretUnavailable): its secret cannot be read back, so the
// caller must supply it as a secret input, as it was handed out once.
// AccessKey never prints or marshals its secret. A key whose create
// answer was lost holds a secret nobody has: delete it (rollout.Sweep
// does) and create it again.
//
// Names: the bucket and key of an environment's store are labelled
// BucketLabel(env, purpose) and KeyLabel(env, purpose), "platform-<env>-
// <purpose>", with a purpose of Purposes. Buckets and keys carry no tags on
// Linode: these labels are what marks them as ours (a sweep finds them by
// them, see pkg/rollout).
//
// Options: WithLogger (default zap.NewNop()). API lists the linodego
// methods called; *linodego.Client satisfies it.
package objectstorage
