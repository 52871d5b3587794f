// Package blob is docplat's content-addressed blob store on a local
// directory that several server processes may share.
//
// It owns the bytes on disk: every blob lives at
// <dir>/blobs/<sha[0:2]>/<sha[2:4]>/<sha>, where sha is the lowercase hex
// sha256 of its content. Uploads are streamed into <dir>/blobs/tmp, hashed
// on the way, fsynced, and only then published with a single rename, so a
// reader (in this or any other process) never sees a partial blob, and an
// upload killed half-way leaves at most a temp file that CleanTemp removes
// later.
//
// Files derived from a blob (previews) live beside it at
// <dir>/derived/<sha[0:2]>/<sha[2:4]>/<sha>/<name>, written the same way
// (derived.go); they mean nothing to the store.
//
// It never does anything else: there is no database, no index and no
// knowledge of documents, owners or reference counts. Deciding which blobs
// are still needed, and calling Remove and RemoveDerived for the rest, is
// the caller's job.
package blob
