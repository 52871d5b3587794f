package accounts

import (
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

// Passwords are hashed with bcrypt: self-describing, salted, and slow enough
// that a leaked table is expensive to attack.
const bcryptCost = bcrypt.DefaultCost

const (
	minPasswordLen = 8
	maxPasswordLen = 72 // bcrypt ignores bytes past 72
)

func checkPasswordPolicy(pw string) error {
	if utf8.RuneCountInString(pw) < minPasswordLen {
		return invalid("password must be at least %d characters", minPasswordLen)
	}
	if len(pw) > maxPasswordLen {
		return invalid("password must be at most %d bytes", maxPasswordLen)
	}
	return nil
}

func hashPassword(pw string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcryptCost)
	return string(h), err
}

// dummyHash keeps login time the same for unknown users, so that response
// timing does not reveal which usernames exist.
var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("docplat-dummy-password"), bcryptCost)

func passwordMatches(hash, pw string) bool {
	if hash == "" {
		_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(pw))
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(pw)) == nil
}
