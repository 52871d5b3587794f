package docs

// canRead reports whether a may read d.
func canRead(a Actor, d Document) bool {
	switch {
	case a.Admin, d.Visibility == Public:
		return true
	case a.Anonymous():
		return false
	case d.OwnerID == a.UserID:
		return true
	case d.DepartmentID == "" || d.DepartmentID != a.DepartmentID:
		return false
	}
	return a.DeptAdmin || d.Visibility == Department
}

// canWrite reports whether a may change or delete d: its owner, an admin, or
// a dept_admin of its department.
func canWrite(a Actor, d Document) bool {
	if a.Anonymous() {
		return false
	}
	return a.Admin || d.OwnerID == a.UserID || (a.DeptAdmin && d.DepartmentID != "" && d.DepartmentID == a.DepartmentID)
}

// writeCheck answers ErrNotFound to callers who may not even read d (no
// existence leak) and ErrForbidden to readers who may not write.
func writeCheck(a Actor, d Document) error {
	if !canRead(a, d) {
		return ErrNotFound
	}
	if !canWrite(a, d) {
		return ErrForbidden
	}
	return nil
}
