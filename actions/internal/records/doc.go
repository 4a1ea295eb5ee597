// Package records is the store input the actions share — where the
// environments' locks, snapshots and audit records are kept
// (rollout.WithRecords) — and, for ensure-env's create-store, the making of
// an s3:// store's bucket and key through the Linode API.
//
// The inputs (Inputs names them): store is a directory (relative to the
// workspace) or s3://<endpoint>/<bucket>[/<prefix>/], Linode Object
// Storage, whose credentials are store-access-key and store-secret-key,
// secret inputs masked as they are read (gha.Read). Parse checks them and
// sends no request; Location.Open makes the store.Store, still sending no
// request.
//
// Create makes an s3:// location's bucket (objectstorage.EnsureBucket,
// nothing written when it exists) and a read-write key limited to it
// (objectstorage.CreateAccessKey), labelled as the bucket is. Linode shows
// a key's secret once, in the answer that created it: Create returns it
// for the action to mask and hand out once; a later run that finds the key
// gets ErrSecretUnavailable and must be given the saved secret. The
// endpoint's region is found by reading the account's Object Storage
// endpoints.
//
// Owner names who applies, for the lock's holder and the audit record.
package records
