package internalapi

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"strconv"
	"time"
)

// SignatureHeader carries a request's signature where the shared secret
// itself must not travel: nginx's admin listener, which may sit on another
// machine (nginx/lua/docplat/admin.lua checks it). Its value is
//
//	v1.<unix seconds>.<nonce>.<hex HMAC-SHA1(secret, SigningString(...))>
//
// HMAC-SHA1 because it is what nginx's Lua module has built in (the read
// tokens use it too); as a MAC it has no known weakness.
const SignatureHeader = "X-Docplat-Signature"

// SignatureWindow is how far a signature's time may be from the verifier's
// clock either way: a captured request is worthless after it, and within
// it the verifier refuses a nonce it has seen.
const SignatureWindow = 30 * time.Second

// SigningString is what a signature covers: the method, the request URI as
// sent (path and query), the time, the nonce and the body's SHA-1. Headers
// are not covered; the admin API's headers only describe the body (a
// forged X-Doc-Rev needs a signed body and URI of the same document, and
// is refused as a replay within the window anyway).
func SigningString(method, requestURI string, unix int64, nonce string, body []byte) string {
	sum := sha1.Sum(body)
	return "docplat-v1\n" + method + "\n" + requestURI + "\n" + strconv.FormatInt(unix, 10) + "\n" + nonce + "\n" + hex.EncodeToString(sum[:])
}

// Signature is the SignatureHeader value of a request signed at t with
// nonce (16 hex digits: Sign picks a random one).
func Signature(secret, method, requestURI string, body []byte, t time.Time, nonce string) string {
	mac := hmac.New(sha1.New, []byte(secret))
	unix := t.Unix()
	mac.Write([]byte(SigningString(method, requestURI, unix, nonce, body)))
	return "v1." + strconv.FormatInt(unix, 10) + "." + nonce + "." + hex.EncodeToString(mac.Sum(nil))
}

// Sign is Signature at t with a fresh random nonce, so that two identical
// requests in one second are told apart from a replay.
func Sign(secret, method, requestURI string, body []byte, t time.Time) string {
	var n [8]byte
	_, _ = rand.Read(n[:]) // never fails (crypto/rand panics instead)
	return Signature(secret, method, requestURI, body, t, hex.EncodeToString(n[:]))
}
