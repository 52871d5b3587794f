// Package readtoken signs and verifies short-lived read tokens: proof that
// the app has already authorized one user to read one revision of one
// document until a deadline. nginx's hot tier (nginx/lua/docplat/token.lua)
// checks the same format so that it can serve a non-public document without
// a round trip to the app. The package owns the format only; it never
// decides who may read what (docs/ does) and never reads configuration.
//
// Format: v1.<exp_unix>.<user_id>.<rev>.<hex hmac_sha1(secret, "v1|" + doc_id + "|" + user_id + "|" + rev + "|" + exp_unix)>
//
// The revision is the document's metadata revision (bumped by any change),
// so a visibility change revokes every outstanding token. HMAC-SHA1 is what
// nginx offers without extra modules (ngx.hmac_sha1) and is still a sound
// MAC; the tokens are meant to live minutes, not days.
//
// The token names its user, so a change of that user's rights (disabled,
// deleted, another role or department) revokes their tokens without
// touching any document: nginx refuses the user's tokens that expire at or
// before a cutoff the app pushes (RevocationCutoff). Expiry and
// RevocationCutoff round the same way, so a cutoff computed after the
// change covers every token issued before it.
package readtoken

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// Verification failures. Each is distinct so that callers can log why a
// token was refused; all of them mean "ask the app".
var (
	ErrMalformed    = errors.New("readtoken: malformed token")
	ErrBadSignature = errors.New("readtoken: bad signature")
	ErrExpired      = errors.New("readtoken: expired")
	ErrStaleRev     = errors.New("readtoken: issued for another revision")
)

const version = "v1"

// Expiry is the expiry of a token issued at now to live ttl, in whole
// seconds (the format's unit), rounded down.
func Expiry(now time.Time, ttl time.Duration) time.Time {
	return now.Add(ttl).UTC().Truncate(time.Second)
}

// RevocationCutoff is the cutoff that revokes every token of a user issued
// up to now with a life of at most ttl: refusing the user's tokens whose
// expiry is at or before it refuses all of them (a token issued later in
// the same second too, which then only costs a trip to the app).
func RevocationCutoff(now time.Time, ttl time.Duration) time.Time {
	return Expiry(now, ttl)
}

// Sign returns a token letting userID read revision rev of docID until exp.
// Ids must not contain '.' or '|' (docplat's ids are base32).
func Sign(secret []byte, docID, userID string, rev int, exp time.Time) string {
	e := strconv.FormatInt(exp.Unix(), 10)
	r := strconv.Itoa(rev)
	return version + "." + e + "." + userID + "." + r + "." + hex.EncodeToString(mac(secret, docID, userID, r, e))
}

// Verify checks token for docID at the entry's current revision rev and
// returns the user it was issued to. The signature is checked before the
// expiry and the revision so that a forged token learns nothing else.
func Verify(secret []byte, token, docID string, rev int, now time.Time) (userID string, err error) {
	parts := strings.Split(token, ".")
	if len(parts) != 5 || parts[0] != version || parts[2] == "" {
		return "", ErrMalformed
	}
	e, user, r, sig := parts[1], parts[2], parts[3], parts[4]
	exp, err := strconv.ParseInt(e, 10, 64)
	if err != nil || strconv.FormatInt(exp, 10) != e {
		return "", ErrMalformed
	}
	tokRev, err := strconv.Atoi(r)
	if err != nil || strconv.Itoa(tokRev) != r {
		return "", ErrMalformed
	}
	got, err := hex.DecodeString(sig)
	if err != nil || len(got) != sha1.Size {
		return "", ErrMalformed
	}
	if !hmac.Equal(got, mac(secret, docID, user, r, e)) {
		return "", ErrBadSignature
	}
	if exp <= now.Unix() {
		return "", ErrExpired
	}
	if tokRev != rev {
		return "", ErrStaleRev
	}
	return user, nil
}

func mac(secret []byte, docID, userID, rev, exp string) []byte {
	m := hmac.New(sha1.New, secret)
	m.Write([]byte(version + "|" + docID + "|" + userID + "|" + rev + "|" + exp))
	return m.Sum(nil)
}

// Revision is the revision a token was signed for, when its signature and
// expiry hold (whatever the document's current revision): a reader holding
// it was told of that revision, which a lagging replica must not undercut.
func Revision(secret []byte, token, docID string, now time.Time) (int, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 5 {
		return 0, false
	}
	rev, err := strconv.Atoi(parts[3])
	if err != nil {
		return 0, false
	}
	if _, err := Verify(secret, token, docID, rev, now); err != nil {
		return 0, false
	}
	return rev, true
}
