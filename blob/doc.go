// Package blob is docplat's content-addressed blob store, over a local
// directory that several server processes may share (the default) or an
// S3 bucket (package blob/s3blob); see Backend for what both guarantee.
//
// Every blob is stored under blobs/<sha[0:2]>/<sha[2:4]>/<sha>, where sha
// is the lowercase hex sha256 of its content: in the directory backend the
// path <dir>/blobs/ab/cd/<sha>, in S3 that key. Uploads are streamed into
// the staging area (<dir>/blobs/tmp, or staging/ in the bucket), hashed on
// the way, made durable (fsync, or a complete PUT), and only then
// published under their key (a rename, or a server-side copy skipped when
// the key exists), so a reader in any process never sees a partial blob,
// and an upload killed half-way leaves at most a staged leftover that
// CleanTemp removes later.
//
// Files derived from a blob (previews) live beside it under
// derived/<sha[0:2]>/<sha[2:4]>/<sha>/<name>, written the same way
// (derived.go); they mean nothing to the store.
//
// It never does anything else: there is no database, no index and no
// knowledge of documents, owners or reference counts. Deciding which blobs
// are still needed, and calling Remove and RemoveDerived for the rest, is
// the caller's job (docs.Collector, which orders removal against uploads
// reusing a blob with the blobs table's row lock).
package blob
