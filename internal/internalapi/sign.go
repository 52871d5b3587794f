package internalapi

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
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

// Request is what a signature covers: the method, the request URI as sent
// (path and query), the body, and the values of the headers the verifier
// and the signer agree on (Names, in that order; an absent header signs as
// empty), which on nginx's admin API carry what the body is (its revision,
// its headers as served).
type Request struct {
	Method, URI string
	Header      http.Header
	Names       []string
	Body        []byte
}

// signingString is the text the MAC is computed over, line by line:
// a version, the method, the URI, the time, the nonce, the body's SHA-1 in
// hex, then "<lower-case name>:<value>" for each of Names.
func (r Request) signingString(unix int64, nonce string) string {
	sum := sha1.Sum(r.Body)
	var b strings.Builder
	b.WriteString("docplat-v1\n" + r.Method + "\n" + r.URI + "\n" + strconv.FormatInt(unix, 10) + "\n" + nonce + "\n" + hex.EncodeToString(sum[:]))
	for _, n := range r.Names {
		b.WriteString("\n" + strings.ToLower(n) + ":" + r.Header.Get(n))
	}
	return b.String()
}

// Signature is the SignatureHeader value of r signed at t with nonce (16
// hex digits: Sign picks a random one).
func Signature(secret string, r Request, t time.Time, nonce string) string {
	mac := hmac.New(sha1.New, []byte(secret))
	unix := t.Unix()
	mac.Write([]byte(r.signingString(unix, nonce)))
	return "v1." + strconv.FormatInt(unix, 10) + "." + nonce + "." + hex.EncodeToString(mac.Sum(nil))
}

// Sign is Signature at t with a fresh random nonce, so that two identical
// requests in one second are told apart from a replay.
func Sign(secret string, r Request, t time.Time) string {
	var n [8]byte
	_, _ = rand.Read(n[:]) // never fails (crypto/rand panics instead)
	return Signature(secret, r, t, hex.EncodeToString(n[:]))
}
