package accounts

// HashPassword hashes a secret other than a user's password (a share or
// upload link's) the way user passwords are hashed. Only the length limit
// of the password policy applies: bcrypt ignores bytes past 72.
func HashPassword(pw string) (string, error) {
	if len(pw) > maxPasswordLen {
		return "", invalid("the password must be at most %d bytes", maxPasswordLen)
	}
	return hashPassword(pw)
}

// PasswordMatches reports whether pw is the one hashed by HashPassword.
func PasswordMatches(hash, pw string) bool { return passwordMatches(hash, pw) }
