package sqlstore

// AnswerSearchesWithSQL makes db answer every search with the SQL form
// (MATCH ... AGAINST joined to documents), as before the Groonga path: the
// benchmark measures both in one run.
func AnswerSearchesWithSQL(db *DB) { db.sqlSearchOnly = true }
