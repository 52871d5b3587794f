package readtoken

import (
	"errors"
	"strings"
	"testing"
	"time"

	"docplat/readtoken/tokenvector"
)

func TestSignMatchesSharedVector(t *testing.T) {
	v := tokenvector.Load(t)
	got := Sign([]byte(v.Secret), v.DocID, v.UserID, v.Rev, time.Unix(v.Exp, 0))
	if got != v.Token {
		t.Fatalf("Sign = %q, want the shared vector %q", got, v.Token)
	}
}

func TestVerify(t *testing.T) {
	v := tokenvector.Load(t)
	secret := []byte(v.Secret)
	now := time.Unix(v.Exp-60, 0)
	other := Sign(secret, "ZZZZZZZZ", v.UserID, v.Rev, time.Unix(v.Exp, 0))
	tests := []struct {
		name    string
		secret  []byte
		token   string
		docID   string
		rev     int
		now     time.Time
		want    string
		wantErr error
	}{
		{"valid vector", secret, v.Token, v.DocID, v.Rev, now, v.UserID, nil},
		{"wrong secret", []byte("other"), v.Token, v.DocID, v.Rev, now, "", ErrBadSignature},
		{"other document's token", secret, other, v.DocID, v.Rev, now, "", ErrBadSignature},
		{"tampered user", secret, "v1.4102444800.43.7.c38033689ca10a3255571eada319f9336f4b790c", v.DocID, v.Rev, now, "", ErrBadSignature},
		{"tampered signature", secret, v.Token[:len(v.Token)-1] + "d", v.DocID, v.Rev, now, "", ErrBadSignature},
		{"expired at exp", secret, v.Token, v.DocID, v.Rev, time.Unix(v.Exp, 0), "", ErrExpired},
		{"stale revision", secret, v.Token, v.DocID, v.Rev + 1, now, "", ErrStaleRev},
		{"empty", secret, "", v.DocID, v.Rev, now, "", ErrMalformed},
		{"wrong version", secret, "v2" + v.Token[2:], v.DocID, v.Rev, now, "", ErrMalformed},
		{"too few parts", secret, "v1.4102444800.42.7", v.DocID, v.Rev, now, "", ErrMalformed},
		{"non-numeric exp", secret, "v1.x.42.7.c38033689ca10a3255571eada319f9336f4b790c", v.DocID, v.Rev, now, "", ErrMalformed},
		{"padded rev", secret, "v1.4102444800.42.07.c38033689ca10a3255571eada319f9336f4b790c", v.DocID, v.Rev, now, "", ErrMalformed},
		{"short signature", secret, "v1.4102444800.42.7.c380", v.DocID, v.Rev, now, "", ErrMalformed},
		{"empty user", secret, "v1.4102444800..7.c38033689ca10a3255571eada319f9336f4b790c", v.DocID, v.Rev, now, "", ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Verify(tt.secret, tt.token, tt.docID, tt.rev, tt.now)
			if !errors.Is(err, tt.wantErr) || got != tt.want {
				t.Fatalf("Verify = (%q, %v), want (%q, %v)", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestSignVerifyRoundTrip(t *testing.T) {
	secret := []byte("s3cret")
	exp := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, user := range []string{"1", "user-7", "ABC234"} {
		tok := Sign(secret, "DOC234", user, 3, exp)
		got, err := Verify(secret, tok, "DOC234", 3, exp.Add(-time.Second))
		if err != nil || got != user {
			t.Fatalf("round trip for %q: (%q, %v)", user, got, err)
		}
	}
}

// Revision believes a token's revision only when its signature and expiry
// hold: a forged or altered token cannot raise a reader's revision fence.
func TestRevisionOnlyOfAValidToken(t *testing.T) {
	secret, now := []byte("0123456789abcdef0123"), time.Now()
	tok := Sign(secret, "doc1", "user1", 7, now.Add(time.Minute))
	if rev, ok := Revision(secret, tok, "doc1", now); !ok || rev != 7 {
		t.Errorf("Revision of a valid token = %d, %t; want 7, true", rev, ok)
	}
	for name, c := range map[string]struct{ secret, tok, doc string }{
		"other secret":    {"another-secret-0123", tok, "doc1"},
		"other document":  {string(secret), tok, "doc2"},
		"raised revision": {string(secret), raised(tok), "doc1"},
		"expired":         {string(secret), Sign(secret, "doc1", "user1", 7, now.Add(-time.Second)), "doc1"},
		"malformed":       {string(secret), "v1.x", "doc1"},
	} {
		if rev, ok := Revision([]byte(c.secret), c.tok, c.doc, now); ok {
			t.Errorf("%s: Revision = %d, true; want refused", name, rev)
		}
	}
}

// raised is tok claiming revision 99 with its signature unchanged.
func raised(tok string) string {
	parts := strings.Split(tok, ".")
	parts[3] = "99"
	return strings.Join(parts, ".")
}
